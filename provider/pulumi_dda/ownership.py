"""Which component version is whose, when two are the same, and what may be deleted.

Everything here is kept in tags on the component versions, so it survives lost Pulumi state:

``pulumi-dda:owner``
    ``project/stack/name`` of the resource that created the version. Only versions carrying it
    were made by pulumi-dda, and nothing without it is ever deleted.
``pulumi-dda:fingerprint``
    SHA-256 of what the package and recipe are built from (:func:`fingerprint`). Two versions
    are *identical* when their fingerprints match. The recipe the service returns is never
    compared: Greengrass rewrites it (defaults filled in, keys reordered, ``URI`` → ``Uri``).
``pulumi-dda:user:<instance>`` = ``<owner>``
    One per resource *instance* that holds the version, whether it created or adopted it: a
    reference count. An instance is a hash of the owner and the inputs whose change replaces
    the resource (``versions``, ``region``, ``role_arn``): a replacement is a new instance of
    the same owner, so a replacement that ends up holding its predecessor's version (an
    unchanged target) keeps it when the predecessor is deleted; a create retried after a crash
    is the same instance, so it leaves no stale tag behind.

The rules:

- **Take over** an existing version only when it is identical, and only once it is
  ``DEPLOYABLE`` (the caller waits while it is pending and refuses ``FAILED``).
- **Release** removes this instance's tag and deletes the version only when no other instance
  holds it *and* no latest deployment of any target in the account and region includes it
  (devices run it). Two stacks at once: the releaser first marks the version
  ``pulumi-dda:deleting`` and looks at its holders again *after* marking; a stack taking the
  version over looks for that mark *after* tagging itself a holder, and waits until the mark is
  gone (kept) or the version is (deleted, so it publishes it again). Whichever order the calls
  interleave in, a version a stack took over is never left deleted.
``pulumi-dda:pending:<instance>`` = ``<owner>``
    Set with the holder tag when a create starts to hold a version (created or taken over) and
    removed once the whole create has succeeded: a version still carrying it is held by a
    create that crashed or was killed, not by a resource in any stack's state.

- **Dead instances.** While a resource is created, the only live instances of its owner are
  itself and the instance it replaces (its *predecessor*, known at check from the old
  inputs; the engine's re-check of a replacement, which has none, is given them by
  :class:`ReplacedOlds`). Every other instance of the same owner is dead: a
  create that crashed before Pulumi saved its state, or one a refresh dropped. A successful
  create removes their tags and releases the versions only they held (**sweep**), so an
  ``up`` after a crash ends with one version per target. Delete and the cleanup of a failed
  create count another instance of the same owner as alive only once its create finished
  (a replacement deletes its predecessor while the successor is live); one whose pending tag
  is still there crashed, so a destroy right after a crashed replacement leaves nothing. The
  same stack never runs two operations at once (the engine's stack lock; a provider whose
  engine died exits, see ``_host.watch_engine``), so a pending tag of the own owner seen by
  a delete is never a create still running.
- **Whoever looks last sweeps.** A release reads the holders again *after* removing its own
  tag, so of two stacks releasing one version at once, at least one sees the other's tag gone
  and deletes the version. A version pulumi-dda made that no live instance holds (its last
  holder died between untagging and deleting) is released by the next create or delete of a
  resource with a version of that component, whichever stack it belongs to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock
from typing import TYPE_CHECKING

from . import arn as arns
from . import greengrass
from ._types import JSONDict
from .errors import NotFoundError
from .manifest import canonical
from .recipe import version_for_major

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client

OWNER_TAG = "pulumi-dda:owner"
DELETING_TAG = "pulumi-dda:deleting"
STALE_MARK_SECONDS = 120.0
"""A deleting mark older than this was left by a releaser that died; it is ignored."""
FINGERPRINT_TAG = "pulumi-dda:fingerprint"
USER_TAG_PREFIX = "pulumi-dda:user:"
PENDING_TAG_PREFIX = "pulumi-dda:pending:"
BOOKKEEPING_TAGS = 5
"""Tags a version carries besides its users' own: owner, fingerprint, one holder, its pending
tag while created, the mark."""
MAX_TAG_VALUE = 256
FAILED = "FAILED"


def tag_value(text: str) -> str:
    """``text`` within the service's 256-character tag values (long ones keep a hash)."""
    if len(text) <= MAX_TAG_VALUE:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: MAX_TAG_VALUE - 17]}~{digest}"


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
        "manifest": canonical(manifest),
        "compiled": compiled_identity,
        "bucket": artifact_bucket,
        "prefix": artifact_prefix,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def is_identical(tags: dict[str, str], wanted_fingerprint: str) -> bool:
    """A version made by pulumi-dda from the same content."""
    return OWNER_TAG in tags and tags.get(FINGERPRINT_TAG) == wanted_fingerprint


TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"


def _now() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def mark_is_live(tags: dict[str, str]) -> bool:
    """A releaser marked the version and may be about to delete it."""
    mark = tags.get(DELETING_TAG, "")
    try:
        marked = datetime.strptime(mark.split(" ", 1)[0], TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return False
    return (datetime.now(UTC) - marked).total_seconds() < STALE_MARK_SECONDS


def instance_of(props: JSONDict) -> str:
    """The instance a resource's inputs (or state) describe; ``""`` without versions."""
    if not props.get("versions"):
        return ""
    document = {
        k: canonical(props.get(k) or "") for k in ("owner", "versions", "region", "role_arn")
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Holder:
    """One resource instance (see the module docstring) and the instance it replaces."""

    owner: str
    instance: str
    predecessor: str = ""

    @property
    def owner_label(self) -> str:
        return tag_value(self.owner)

    @property
    def tag_key(self) -> str:
        return USER_TAG_PREFIX + self.instance

    @property
    def pending_key(self) -> str:
        return PENDING_TAG_PREFIX + self.instance

    @property
    def own_keys(self) -> list[str]:
        return [self.tag_key, self.pending_key]

    @property
    def tag(self) -> dict[str, str]:
        """The tags a create sets to hold a version: holder and pending (see the docstring)."""
        return {self.tag_key: self.owner_label, self.pending_key: self.owner_label}

    def creation_tags(self, wanted_fingerprint: str) -> dict[str, str]:
        """The bookkeeping tags of a version this instance creates."""
        return {OWNER_TAG: self.owner_label, FINGERPRINT_TAG: wanted_fingerprint, **self.tag}

    def dead_keys(self, tags: dict[str, str], *, sweep_dead: bool) -> list[str]:
        """Tags of this owner's dead instances: with ``sweep_dead`` (while creating) every one
        but this one and its predecessor, else those whose create crashed (pending tag)."""
        alive = {self.instance} if not sweep_dead else {self.instance, self.predecessor}
        dead = {
            _instance(key)
            for key, owner in tags.items()
            if key.startswith(USER_TAG_PREFIX)
            and owner == self.owner_label
            and (sweep_dead or PENDING_TAG_PREFIX + _instance(key) in tags)
        } - alive
        return sorted(k for k in tags if k.startswith(_HOLDING) and _instance(k) in dead)


_HOLDING = (USER_TAG_PREFIX, PENDING_TAG_PREFIX)


def _instance(key: str) -> str:
    return key.rpartition(":")[2]


def other_holders(tags: dict[str, str], holder: Holder) -> list[str]:
    """Owners of the instances other than ``holder`` that hold a version."""
    return [
        owner
        for key, owner in tags.items()
        if key.startswith(USER_TAG_PREFIX) and key != holder.tag_key
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

    The newest existing version that is identical and not ``FAILED`` (a create that crashed
    before Pulumi saved its state, another stack's identical version, or the version a
    rollback returns to: the model of an earlier revision, kept for it), looking at the
    newest :data:`IDENTICAL_LOOKS` versions; else the next major.
    """
    majors = sorted(set(map(greengrass.major_of, greengrass.list_versions(gg, component_arn))))
    majors = [m for m in majors if m]
    for major in reversed(majors[-IDENTICAL_LOOKS:]):
        found = look_up(gg, arns.version_of(component_arn, version_for_major(major)))
        if found and found.identical(wanted_fingerprint) and found.state != FAILED:
            return version_for_major(major)
    return version_for_major((majors[-1] if majors else 0) + 1)


IDENTICAL_LOOKS = 10
"""How many of a component's newest versions :func:`next_version` compares: more than the
revisions a deployment keeps for a rollback (``keep_revisions``, default 3)."""


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


def release(
    gg: GreengrassV2Client,
    arn: str,
    holder: Holder,
    deployments: DeploymentIndex,
    *,
    sweep_dead: bool = False,
) -> str:
    """Drop ``holder``'s hold on a version and delete it if nothing else keeps it.

    The tags of dead instances of the same owner go too (:meth:`Holder.dead_keys`:
    ``sweep_dead`` only while creating, see the module docstring). Returns what happened, for a
    progress line: ``deleted``, ``already gone``, or ``kept: ...`` naming what keeps it (another
    stack, a deployment, or that pulumi-dda did not make it).
    """
    try:
        tags = greengrass.get_tags(gg, arn)
        drop = [k for k in holder.own_keys if k in tags]
        drop += holder.dead_keys(tags, sweep_dead=sweep_dead)
        if drop:
            greengrass.remove_tags(gg, arn, drop)
            # Read again, not derived from the first read: another stack releasing at once
            # untagged meanwhile, and one of the two must see the other gone (see above).
            tags = greengrass.get_tags(gg, arn)
        if OWNER_TAG not in tags:
            return "kept: not made by pulumi-dda"
        if kept := _kept_by(tags, holder, deployments, arn):
            return kept
        greengrass.add_tags(gg, arn, {DELETING_TAG: f"{_now()} {holder.instance}"})
        tags = greengrass.get_tags(gg, arn)  # looked at again after marking: see the docstring
        if kept := _kept_by(tags, holder, deployments, arn):
            greengrass.remove_tags(gg, arn, [DELETING_TAG])
            return kept
    except NotFoundError:
        return "already gone"
    return "deleted" if greengrass.delete_component_version(gg, arn) else "already gone"


def _kept_by(tags: dict[str, str], holder: Holder, deployments: DeploymentIndex, arn: str) -> str:
    if others := other_holders(tags, holder):
        return f"kept: also held by {', '.join(sorted(set(others)))}"
    if users := deployments.users(*arns.name_and_version(arn)):
        return f"kept: {'; '.join(users)} uses it"
    return ""


def settle(gg: GreengrassV2Client, arn: str, wait: Callable[[float], None]) -> bool:
    """After tagging itself a holder: ``False`` if a concurrent release deleted the version.

    Waits while another stack's live deleting mark is on it (see the module docstring).
    """
    delay = 0.1
    while True:
        try:
            tags = greengrass.get_tags(gg, arn)
        except NotFoundError:
            return False
        if not mark_is_live(tags):
            return True
        wait(delay)
        delay = min(delay * 2, 2.0)


def orphans(
    gg: GreengrassV2Client, component_arn: str, holder: Holder, *, sweep_dead: bool
) -> list[str]:
    """Versions of a component that pulumi-dda made and no live instance holds.

    Versions nobody holds any more (kept earlier because a deployment used them, or whose last
    holder died while releasing), and those only dead instances of ``holder``'s owner hold
    (:meth:`Holder.dead_keys`), whichever stack made them.
    """
    found = []
    for version in greengrass.list_versions(gg, component_arn):
        arn = arns.version_of(component_arn, version)
        try:
            tags = greengrass.get_tags(gg, arn)
        except NotFoundError:
            continue
        if OWNER_TAG not in tags or holder.tag_key in tags:
            continue
        dead = set(holder.dead_keys(tags, sweep_dead=sweep_dead))
        if not [k for k in tags if k.startswith(USER_TAG_PREFIX) and k not in dead]:
            found.append(arn)
    return found


class ReplacedOlds:
    """The old state a check is about: ``olds``, or for the engine's re-check of a resource it
    replaces, the old state of the check before (thread-safe: the plugin serves on several
    threads).

    When a diff says replace, the engine calls Check again with *no* old state ("recompute the
    default values", ``pkg/resource/deploy/step_generator.go``), and that re-check's result is
    what the replacement is created from and what the preview shows. Everything check derives
    from the old state (the manifest kept without reading the trained model again, the
    predecessor instance, the plan's reasons) would be lost. So a check with an old state is
    remembered per owner, armed by a diff that replaces (dropped by one that does not, and by
    create), and the next check of that owner with the same inputs and no old state, which is
    the re-check in the same provider process, takes it."""

    @dataclass
    class _Checked:
        inputs: str
        olds: JSONDict
        replacing: bool = False

    def __init__(self) -> None:
        self._lock = Lock()
        self._checked: dict[str, ReplacedOlds._Checked] = {}

    def of(self, olds: JSONDict, news: JSONDict) -> JSONDict:
        """The old state for the check of ``news`` (see the class docstring)."""
        owner = str(news.get("owner") or "")
        key = json.dumps(news, sort_keys=True, default=str)
        with self._lock:
            if olds:
                self._checked[owner] = self._Checked(key, olds)
                return olds
            last = self._checked.pop(owner, None)
        return last.olds if last and last.replacing and last.inputs == key else olds

    def diffed(self, owner: str, *, replaces: bool) -> None:
        """A diff of ``owner``: one that replaces arms its last check for the re-check."""
        with self._lock:
            if owner in self._checked and replaces:
                self._checked[owner].replacing = True
            else:
                self._checked.pop(owner, None)

    def forget(self, owner: str) -> None:
        with self._lock:
            self._checked.pop(owner, None)


def sweep(
    gg: GreengrassV2Client,
    holder: Holder,
    deployments: DeploymentIndex,
    components: set[str],
    *,
    sweep_dead: bool,
    say: Callable[[str], None],
) -> set[str]:
    """Release the orphans of ``components`` (see :func:`orphans`); their artifact URIs."""
    uris = set()
    for component in sorted(components):
        for arn in orphans(gg, component, holder, sweep_dead=sweep_dead):
            uris.add(greengrass.stored_artifact(greengrass.get_recipe(gg, arn))[0])
            outcome = release(gg, arn, holder, deployments, sweep_dead=sweep_dead)
            say(f"{arn} (left behind by this resource earlier): {outcome}")
    return uris
