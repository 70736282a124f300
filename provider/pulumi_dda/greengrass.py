"""The Greengrass v2 AWS layer: component versions, deployments and their tags.

Shaped like terraform-provider-aws: finders own "not found" (they return ``None``), the waiter
is a generic state-change loop (pending ``REQUESTED``/``INITIATED``, target ``DEPLOYABLE``) with
exponential backoff and a named timeout, and its error carries the service's last status
message. Every call goes through :func:`pulumi_dda.aws.aws_errors`. The rules of who holds a
version and when it may be deleted are in :mod:`pulumi_dda.ownership`, not here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import arn as arns
from ._types import JSONDict, Progress, no_progress
from .aws import aws_errors
from .errors import AwsError, ConflictError, InputError, NotFoundError, WaitTimeoutError
from .recipe import validate_component_version

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client

PENDING_STATES = frozenset({"REQUESTED", "INITIATED"})
TARGET_STATE = "DEPLOYABLE"
DEPLOYABLE_TIMEOUT = 15 * 60.0
"""How long a new component version may take to become DEPLOYABLE (seconds)."""
BOOKKEEPING_PREFIX = "pulumi-dda:"
"""Tags pulumi-dda keeps for itself on versions and deployments (see :mod:`.ownership`)."""


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags a user manages: everything but pulumi-dda's bookkeeping tags."""
    return {k: v for k, v in tags.items() if not k.startswith(BOOKKEEPING_PREFIX)}


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
    """Tags of a component version or deployment ARN."""
    with aws_errors(f"listing tags of Greengrass resource ({arn})"):
        return dict(gg.list_tags_for_resource(resourceArn=arn).get("tags", {}))


def add_tags(gg: GreengrassV2Client, arn: str, tags: dict[str, str]) -> None:
    if tags:
        with aws_errors(f"tagging Greengrass resource ({arn})"):
            gg.tag_resource(resourceArn=arn, tags=tags)


def remove_tags(gg: GreengrassV2Client, arn: str, keys: list[str]) -> None:
    if keys:
        with aws_errors(f"untagging Greengrass resource ({arn})"):
            gg.untag_resource(resourceArn=arn, tagKeys=keys)


def set_tags(gg: GreengrassV2Client, arn: str, old: dict[str, str], new: dict[str, str]) -> None:
    """Make the user tags of ``arn`` go from ``old`` to ``new`` (bookkeeping tags stay)."""
    remove_tags(gg, arn, [k for k in user_tags(old) if k not in new])
    add_tags(gg, arn, {k: v for k, v in new.items() if old.get(k) != v})


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


def major_of_any(version: str) -> int:
    """The major part of any semantic version (``1.2.3-rc1`` → 1); 0 if it is not one."""
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def semver_key(version: str) -> tuple[int, int, int, bool, str]:
    """Orders semantic versions as Greengrass does: ``1.10.0`` after ``1.9.1``, a release after
    its pre-releases (``1.2.0-rc1`` < ``1.2.0``); build metadata is ignored."""
    core, _, pre = version.split("+", 1)[0].partition("-")
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return (parts[0], parts[1], parts[2], not pre, pre)


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
        components = [
            item["arn"]
            for page in pages
            for item in page.get("components", [])
            if item.get("componentName", "").startswith(name_prefix)
        ]
    uris: set[str] = set()
    for arn in components:
        # A component deleted meanwhile (the engine deletes resources in parallel) lists none.
        for version in list_versions(gg, arn):
            try:
                uris |= artifact_uris(get_recipe(gg, arns.version_of(arn, version)))
            except NotFoundError:
                continue
    return uris


def stored_artifact(recipe: JSONDict) -> tuple[str, str]:
    """``(uri, digest)`` of the single artifact of a stored model-component recipe.

    Reads the recipe as the service returns it (``Uri`` or ``URI``), never comparing it as a
    whole: the service rewrites recipes (defaults filled in, keys reordered).
    """
    found = [
        (str(a.get("Uri") or a.get("URI") or ""), str(a.get("Digest") or ""))
        for manifest in recipe.get("Manifests", [])
        for a in manifest.get("Artifacts", [])
    ]
    return found[0] if len(found) == 1 else ("", "")


# Deployments -------------------------------------------------------------------------------


def find_deployment(gg: GreengrassV2Client, deployment_id: str) -> JSONDict | None:
    """``GetDeployment``, or ``None`` if the deployment does not exist."""
    try:
        with aws_errors(f"reading Greengrass deployment ({deployment_id})"):
            return dict(gg.get_deployment(deploymentId=deployment_id))
    except NotFoundError:
        return None


def latest_deployments(gg: GreengrassV2Client, target_arn: str | None = None) -> list[JSONDict]:
    """Summaries of the latest deployment of every target (or of ``target_arn``)."""
    kwargs: dict[str, Any] = {"historyFilter": "LATEST_ONLY"}
    if target_arn:
        kwargs["targetArn"] = target_arn
    with aws_errors(f"listing Greengrass deployments of {target_arn or 'every target'}"):
        pages = gg.get_paginator("list_deployments").paginate(**kwargs)
        return [dict(d) for page in pages for d in page.get("deployments", [])]


def deployed_component_versions(gg: GreengrassV2Client) -> dict[tuple[str, str], list[str]]:
    """``(component name, version)`` → the deployments that keep it.

    What devices run (or are about to): the latest revision of every target in this account
    and region, whatever its status (devices that applied a cancelled revision keep running
    its components). And what they may be rolled back to: when that latest revision carries
    :data:`KEEP_TAG` = K (a ``GreengrassDeployment``'s ``keep_revisions``), the target's K
    newest revisions (``ListDeployments`` ``historyFilter=ALL``). A target whose latest
    revision was deleted (its stack destroyed) keeps nothing. Each entry names the revision and
    its target for messages.
    """
    with aws_errors("listing the Greengrass deployment history of every target"):
        pages = gg.get_paginator("list_deployments").paginate(historyFilter="ALL")
        history = [dict(d) for page in pages for d in page.get("deployments", [])]
    by_target: dict[str, list[JSONDict]] = {}
    for summary in sorted(history, key=_created, reverse=True):
        by_target.setdefault(str(summary.get("targetArn", "")), []).append(summary)
    used: dict[tuple[str, str], list[str]] = {}
    for target, revisions in by_target.items():
        latest = next((r for r in revisions if r.get("isLatestForTarget")), None)
        if latest is None:
            continue
        kept = [latest, *(r for r in revisions if r is not latest)]
        keep = 1
        for rank, summary in enumerate(kept):
            if rank >= keep:
                break
            found = find_deployment(gg, str(summary["deploymentId"]))
            if found is None:
                continue  # deleted while listing
            if rank == 0:
                keep = keep_revisions(found.get("tags") or {})
            label = f"deployment {found['deploymentId']} of {target}"
            if rank:
                label += f" (kept for rollback: revision {rank + 1} of the {keep} it keeps)"
            for name, spec in (found.get("components") or {}).items():
                used.setdefault((name, str(spec.get("componentVersion", ""))), []).append(label)
    return used


KEEP_TAG = "pulumi-dda:keep-revisions"
"""On a revision pulumi-dda made: how many of its target's newest revisions keep their
component versions (see :func:`deployed_component_versions`)."""
MAX_KEEP = 50


def keep_revisions(tags: JSONDict) -> int:
    """The K a revision's :data:`KEEP_TAG` names (1 without one or with a bad one)."""
    try:
        return max(1, min(MAX_KEEP, int(str(tags.get(KEEP_TAG, "1")))))
    except ValueError:
        return 1


def _created(summary: JSONDict) -> float:
    value = summary.get("creationTimestamp")
    stamp = getattr(value, "timestamp", None)
    return float(stamp()) if callable(stamp) else float(value or 0)


def create_deployment(gg: GreengrassV2Client, request: JSONDict) -> JSONDict:
    """``CreateDeployment`` (botocore adds ``clientToken``, so its retries are idempotent)."""
    with aws_errors(f"creating a Greengrass deployment for {request['targetArn']}"):
        return dict(gg.create_deployment(**request))


def cancel_deployment(gg: GreengrassV2Client, deployment_id: str) -> bool:
    """Cancel a deployment; ``False`` if it is no longer active (finished or superseded)."""
    try:
        with aws_errors(f"cancelling Greengrass deployment ({deployment_id})"):
            gg.cancel_deployment(deploymentId=deployment_id)
    except ConflictError:
        return False
    return True


def delete_deployment(gg: GreengrassV2Client, deployment_id: str) -> bool:
    """Delete a deployment record; ``False`` if it was already gone."""
    try:
        with aws_errors(f"deleting Greengrass deployment ({deployment_id})"):
            gg.delete_deployment(deploymentId=deployment_id)
    except NotFoundError:
        return False
    return True
