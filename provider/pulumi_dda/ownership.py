"""Which component version is whose, when two are the same, and what may be deleted.

Everything here is kept in tags on the component versions, so it survives lost Pulumi state:

``pulumi-dda:owner``
    ``project/stack/name`` of the resource that created the version. Only versions carrying it
    were made by pulumi-dda, and nothing without it is ever deleted.
``pulumi-dda:fingerprint``
    SHA-256 of what the package and recipe are built from (:func:`fingerprint`). Two versions
    are *identical* when their fingerprints match. The recipe the service returns is never
    compared: Greengrass rewrites it (defaults filled in, keys reordered, ``URI`` → ``Uri``).
``pulumi-dda:user:<instance>`` = ``<created> <owner>``
    One per resource *instance* that holds the version, whether it created or adopted it: a
    reference count. An instance is one create of a resource; a replacement is a new instance
    of the same ``owner``, so a replacement that ends up holding its predecessor's version (an
    unchanged target) keeps it when the predecessor is deleted.

The rules:

- **Take over** an existing version only when it is identical, and only once it is
  ``DEPLOYABLE`` (the caller waits while it is pending and refuses ``FAILED``).
- **Release** removes this instance's tag and deletes the version only when, looked at again
  just before the delete, no other instance holds it *and* no latest deployment of any target
  in the account and region includes it (devices run it). An instance of the same owner that
  was created *before* the one being deleted is dead (a create that crashed before Pulumi saved
  its state, or an instance dropped from state by a refresh): at delete, its tags do not keep
  a version alive. The cleanup of a failed create counts every other tag as alive.
- **Sweep**: deleting a resource also releases the versions of its components that its owner
  created and that only dead instances hold, such as what a crashed create left behind.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock
from typing import TYPE_CHECKING, Any

from . import greengrass
from ._types import JSONDict
from .errors import NotFoundError
from .recipe import version_for_major

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client

OWNER_TAG = "pulumi-dda:owner"
FINGERPRINT_TAG = "pulumi-dda:fingerprint"
USER_TAG_PREFIX = "pulumi-dda:user:"
BOOKKEEPING_TAGS = 3
"""Tags a version carries besides its users' own: owner, fingerprint, one holder."""
MAX_TAG_VALUE = 256
FAILED = "FAILED"
_CREATED = re.compile(r"^(\d{8}T\d{6}\.\d{6}Z) (.*)$")


def tag_value(text: str) -> str:
    """``text`` within the service's 256-character tag values (long ones keep a hash)."""
    if len(text) <= MAX_TAG_VALUE:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: MAX_TAG_VALUE - 17]}~{digest}"


def _canonical(value: Any) -> Any:
    """JSON-equal values alike: Pulumi state turns 224 into 224.0 and sorts object keys."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def fingerprint(
    *,
    component_name: str,
    friendly_name: str,
    target: str,
    manifest: JSONDict,
    compiled_identity: str,
    artifact_bucket: str,
    artifact_prefix: str,
) -> str:
    """The identity of one target's component content, computable at preview.

    Everything the package and recipe are built from: names, the DDA manifest, the identity
    of the compiled archive (S3 ETag and version id, or SHA-256 of a local file), and where
    the package goes. The trained model enters only through the manifest, so re-uploading it
    unchanged changes nothing.
    """
    document = {
        "component_name": component_name,
        "friendly_name": friendly_name,
        "target": target,
        "manifest": _canonical(manifest),
        "compiled": compiled_identity,
        "bucket": artifact_bucket,
        "prefix": artifact_prefix,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def is_identical(tags: dict[str, str], wanted_fingerprint: str) -> bool:
    """A version made by pulumi-dda from the same content."""
    return OWNER_TAG in tags and tags.get(FINGERPRINT_TAG) == wanted_fingerprint


@dataclass(frozen=True)
class Holder:
    """One resource instance: its owner and when it was created."""

    owner: str
    instance: str
    created: str = ""
    """UTC creation time, ``YYYYmmddTHHMMSS.ffffffZ``; empty for instances from before this
    scheme (they count as the oldest)."""

    @classmethod
    def new(cls, owner: str) -> Holder:
        now = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        return cls(owner, uuid.uuid4().hex[:16], now)

    @classmethod
    def from_state(cls, props: JSONDict) -> Holder:
        owner = str(props.get("owner") or "")
        state = props.get("holder") or {}
        if state.get("instance"):
            return cls(owner, str(state["instance"]), str(state.get("created") or ""))
        # State written before instances existed: the tag then was keyed by the owner.
        return cls(owner, hashlib.sha256(owner.encode()).hexdigest()[:16])

    def to_state(self) -> JSONDict:
        return {"instance": self.instance, "created": self.created}

    @property
    def owner_label(self) -> str:
        return tag_value(self.owner)

    @property
    def tag_key(self) -> str:
        return USER_TAG_PREFIX + self.instance

    @property
    def tag(self) -> dict[str, str]:
        return {self.tag_key: tag_value(f"{self.created} {self.owner}".strip())}

    def creation_tags(self, wanted_fingerprint: str) -> dict[str, str]:
        """The bookkeeping tags of a version this instance creates."""
        return {OWNER_TAG: self.owner_label, FINGERPRINT_TAG: wanted_fingerprint, **self.tag}


@dataclass(frozen=True)
class Hold:
    """A holder as read back from a version's tag."""

    key: str
    owner: str
    created: str


def holds(tags: dict[str, str]) -> list[Hold]:
    found = []
    for key, value in tags.items():
        if key.startswith(USER_TAG_PREFIX):
            match = _CREATED.match(value)
            created, owner = match.groups() if match else ("", value)
            found.append(Hold(key, owner, created))
    return found


def other_holders(tags: dict[str, str], holder: Holder, *, older_are_dead: bool) -> list[str]:
    """Who else holds a version: owners of live instances other than ``holder``."""
    alive = []
    for hold in holds(tags):
        if hold.key == holder.tag_key:
            continue
        dead = hold.owner == holder.owner_label and hold.created < holder.created
        if not (older_are_dead and dead):
            alive.append(hold.owner)
    return alive


def dead_keys(tags: dict[str, str], holder: Holder) -> list[str]:
    """Tags of earlier instances of ``holder``'s owner (see the module docstring)."""
    return [
        h.key
        for h in holds(tags)
        if h.key != holder.tag_key and h.owner == holder.owner_label and h.created < holder.created
    ]


@dataclass(frozen=True)
class Existing:
    """A component version that exists: its state and tags."""

    arn: str
    state: str
    tags: dict[str, str]

    def identical(self, wanted_fingerprint: str) -> bool:
        return is_identical(self.tags, wanted_fingerprint)

    @property
    def maker(self) -> str:
        owner = self.tags.get(OWNER_TAG)
        return f"made by {owner}" if owner else "not made by pulumi-dda"


def look_up(gg: GreengrassV2Client, arn: str) -> Existing | None:
    """The version at ``arn``, or ``None`` if it does not exist."""
    found = greengrass.find_component_version(gg, arn)
    if found is None:
        return None
    try:
        tags = greengrass.get_tags(gg, arn)
    except NotFoundError:
        return None
    return Existing(arn, str(found.get("status", {}).get("componentState", "")), tags)


def next_version(gg: GreengrassV2Client, component_arn: str, wanted_fingerprint: str) -> str:
    """The version a target takes when ``component_version`` is omitted.

    The newest existing version if it is identical and not ``FAILED`` (a create that crashed
    before Pulumi saved its state, or another stack's identical version), else the next major.
    """
    newest = max(map(greengrass.major_of, greengrass.list_versions(gg, component_arn)), default=0)
    if newest:
        found = look_up(gg, f"{component_arn}:versions:{version_for_major(newest)}")
        if found and found.identical(wanted_fingerprint) and found.state != FAILED:
            return version_for_major(newest)
    return version_for_major(newest + 1)


class DeploymentIndex:
    """What the latest deployments use, read at most once per hook call (and only if needed)."""

    def __init__(self, gg: GreengrassV2Client) -> None:
        self._gg = gg
        self._lock = Lock()
        self._used: dict[tuple[str, str], list[str]] | None = None

    def users(self, name: str, version: str) -> list[str]:
        with self._lock:
            if self._used is None:
                self._used = greengrass.deployed_component_versions(self._gg)
            return list(self._used.get((name, version), []))


def _name_version(arn: str) -> tuple[str, str]:
    head, _, version = arn.rpartition(":versions:")
    return head.rpartition(":components:")[2], version


def release(
    gg: GreengrassV2Client,
    arn: str,
    holder: Holder,
    deployments: DeploymentIndex,
    *,
    older_are_dead: bool,
) -> str:
    """Drop ``holder``'s hold on a version and delete it if nothing else keeps it.

    Returns what happened, for a progress line: ``deleted``, ``already gone``, or ``kept: ...``
    naming what keeps it (another stack, a deployment, or that pulumi-dda did not make it).
    """
    try:
        tags = greengrass.get_tags(gg, arn)
        mine = [holder.tag_key] if holder.tag_key in tags else []
        if older_are_dead:
            mine += dead_keys(tags, holder)
        greengrass.remove_tags(gg, arn, mine)
        tags = greengrass.get_tags(gg, arn)  # looked at again just before deciding
    except NotFoundError:
        return "already gone"
    if others := other_holders(tags, holder, older_are_dead=older_are_dead):
        return f"kept: also held by {', '.join(sorted(set(others)))}"
    if OWNER_TAG not in tags:
        return "kept: not made by pulumi-dda"
    if users := deployments.users(*_name_version(arn)):
        return f"kept: {'; '.join(users)} uses it"
    return "deleted" if greengrass.delete_component_version(gg, arn) else "already gone"


def orphans(gg: GreengrassV2Client, component_arn: str, holder: Holder) -> list[str]:
    """Versions of a component that ``holder``'s owner created and only dead instances hold."""
    found = []
    for version in greengrass.list_versions(gg, component_arn):
        arn = f"{component_arn}:versions:{version}"
        try:
            tags = greengrass.get_tags(gg, arn)
        except NotFoundError:
            continue
        if tags.get(OWNER_TAG) != holder.owner_label or holder.tag_key in tags:
            continue
        if not other_holders(tags, holder, older_are_dead=True):
            found.append(arn)
    return found
