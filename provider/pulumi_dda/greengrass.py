"""Greengrass v2 component versions: finders, a status waiter, create and delete.

Shaped like terraform-provider-aws: finders own "not found" (they return ``None``), the waiter
is a generic state-change loop (pending ``REQUESTED``/``INITIATED``, target ``DEPLOYABLE``) with
exponential backoff and a named timeout, and its error carries the service's last status
message. Every call goes through :func:`pulumi_dda.aws.aws_errors`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._types import JSONDict, Progress, no_progress
from .aws import aws_errors
from .errors import AwsError, InputError, NotFoundError, WaitTimeoutError
from .recipe import validate_component_version

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client

PENDING_STATES = frozenset({"REQUESTED", "INITIATED"})
TARGET_STATE = "DEPLOYABLE"
DEPLOYABLE_TIMEOUT = 15 * 60.0
"""How long a new component version may take to become DEPLOYABLE (seconds)."""
OWNER_TAG = "pulumi-dda:owner"
"""Tag naming the stack resource that created a component version (``project/stack/name``)."""
USER_TAG_PREFIX = "pulumi-dda:user:"
"""One tag per stack resource that uses a version (created or adopted): a reference count."""


def user_tag(owner: str) -> str:
    return USER_TAG_PREFIX + hashlib.sha256(owner.encode()).hexdigest()[:16]


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags a user manages: everything but pulumi-dda's bookkeeping tags."""
    return {k: v for k, v in tags.items() if not k.startswith("pulumi-dda:")}


def component_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:greengrass:{region}:{account}:components:{name}"


def version_arn(region: str, account: str, name: str, version: str) -> str:
    return f"{component_arn(region, account, name)}:versions:{version}"


def find_component_version(gg: GreengrassV2Client, arn: str) -> JSONDict | None:
    """``DescribeComponent`` of a version ARN, or ``None`` if it does not exist."""
    try:
        with aws_errors(f"describing Greengrass component ({arn})"):
            return dict(gg.describe_component(arn=arn))
    except NotFoundError:
        return None


def get_recipe(gg: GreengrassV2Client, arn: str) -> JSONDict:
    """The recipe the service stored for a version (with the ``Digest`` it computed)."""
    with aws_errors(f"reading the recipe of Greengrass component ({arn})"):
        raw = gg.get_component(arn=arn, recipeOutputFormat="JSON")["recipe"]
    recipe: JSONDict = json.loads(raw)
    return recipe


def get_tags(gg: GreengrassV2Client, arn: str) -> dict[str, str]:
    with aws_errors(f"listing tags of Greengrass component ({arn})"):
        return dict(gg.list_tags_for_resource(resourceArn=arn).get("tags", {}))


def set_tags(gg: GreengrassV2Client, arn: str, old: dict[str, str], new: dict[str, str]) -> None:
    """Make the user tags of ``arn`` go from ``old`` to ``new`` (bookkeeping tags stay)."""
    removed = [k for k in user_tags(old) if k not in new]
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    with aws_errors(f"tagging Greengrass component ({arn})"):
        if removed:
            gg.untag_resource(resourceArn=arn, tagKeys=removed)
        if changed:
            gg.tag_resource(resourceArn=arn, tags=changed)


def release_version(gg: GreengrassV2Client, arn: str, owner: str) -> str:
    """Drop ``owner``'s use of a version; delete it if it was the last pulumi-dda user.

    Returns what happened: ``deleted``, ``gone``, ``in use`` or ``foreign`` (a version that
    pulumi-dda did not create is never deleted).
    """
    try:
        tags = get_tags(gg, arn)
    except NotFoundError:
        return "gone"
    mine = user_tag(owner)
    if mine in tags:
        with aws_errors(f"untagging Greengrass component ({arn})"):
            gg.untag_resource(resourceArn=arn, tagKeys=[mine])
    if any(k.startswith(USER_TAG_PREFIX) and k != mine for k in tags):
        return "in use"
    if OWNER_TAG not in tags:
        return "foreign"
    return "deleted" if delete_component_version(gg, arn) else "gone"


def list_versions(gg: GreengrassV2Client, arn: str) -> list[str]:
    """Version strings of a component (by component ARN), newest first; none if it is gone."""
    try:
        with aws_errors(f"listing versions of Greengrass component ({arn})"):
            pages = gg.get_paginator("list_component_versions").paginate(arn=arn)
            return [item["componentVersion"] for p in pages for item in p["componentVersions"]]
    except NotFoundError:
        return []


def major_of(version: str) -> int:
    """The major part of an ``N.0.0`` version; 0 for versions pulumi-dda would not make."""
    try:
        return validate_component_version(version)
    except InputError:
        return 0


def create_component_version(gg: GreengrassV2Client, recipe_json: str, tags: dict[str, str]) -> str:
    """``CreateComponentVersion`` with an inline JSON recipe; returns the version ARN."""
    kwargs: dict[str, Any] = {"inlineRecipe": recipe_json.encode()}
    if tags:
        kwargs["tags"] = tags
    with aws_errors("creating Greengrass component version"):
        return str(gg.create_component_version(**kwargs)["arn"])


def delete_component_version(gg: GreengrassV2Client, arn: str) -> bool:
    """Delete a version; ``False`` if it was already gone."""
    try:
        with aws_errors(f"deleting Greengrass component ({arn})"):
            gg.delete_component(arn=arn)
    except NotFoundError:
        return False
    return True


def wait_for_state(
    refresh: Callable[[], tuple[str, str]],
    *,
    pending: frozenset[str],
    target: str,
    timeout: float,
    what: str,
    progress: Progress = no_progress,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll ``refresh() -> (state, reason)`` until ``target``; back off from 0.2 s to 10 s."""
    deadline = clock() + timeout
    delay = 0.2
    last = ""
    while True:
        state, reason = refresh()
        if state == target:
            return
        if state not in pending:
            raise AwsError(f"waiting for {what} to become {target}: {state}: {reason}")
        if state != last:
            progress(f"{what}: {state}")
            last = state
        if clock() + delay > deadline:
            raise WaitTimeoutError(
                f"waiting for {what} to become {target}: still {state} after {timeout:.0f} s "
                "(raise wait_timeout_seconds if the service is slow)"
            )
        sleep(delay)
        delay = min(delay * 2, 10.0)


def component_status(gg: GreengrassV2Client, arn: str) -> tuple[str, str]:
    """``(componentState, message)`` of a version; a vanished version is an error."""
    found = find_component_version(gg, arn)
    if found is None:
        raise NotFoundError(f"Greengrass component ({arn}) disappeared while waiting")
    status = found.get("status", {})
    errors = status.get("errors") or {}
    reason = "; ".join(f"{k}: {v}" for k, v in errors.items()) or status.get("message", "")
    return str(status.get("componentState", "")), str(reason)


def wait_component_deployable(
    gg: GreengrassV2Client,
    arn: str,
    timeout: float = DEPLOYABLE_TIMEOUT,
    progress: Progress = no_progress,
) -> None:
    wait_for_state(
        lambda: component_status(gg, arn),
        pending=PENDING_STATES,
        target=TARGET_STATE,
        timeout=timeout,
        what=f"Greengrass component ({arn})",
        progress=progress,
    )


def artifact_uris(recipe: JSONDict) -> set[str]:
    return {
        str(artifact.get("Uri") or artifact.get("URI"))
        for manifest in recipe.get("Manifests", [])
        for artifact in manifest.get("Artifacts", [])
    }


def referenced_artifacts(gg: GreengrassV2Client, *, name_prefix: str = "model-") -> set[str]:
    """Every artifact URI that a private component version (named ``name_prefix*``) uses."""
    with aws_errors("listing Greengrass components"):
        pages = gg.get_paginator("list_components").paginate(scope="PRIVATE")
        arns = [
            item["arn"]
            for page in pages
            for item in page.get("components", [])
            if item.get("componentName", "").startswith(name_prefix)
        ]
    uris: set[str] = set()
    for arn in arns:
        # A component deleted meanwhile (the engine deletes resources in parallel) lists none.
        for version in list_versions(gg, arn):
            try:
                uris |= artifact_uris(get_recipe(gg, f"{arn}:versions:{version}"))
            except NotFoundError:
                continue
    return uris
