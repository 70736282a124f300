"""Model packages in S3: upload once to a content-addressed key, never overwrite, clean up late.

**Upload.** The key holds the package id (derived from the ZIP's SHA-256), so the same bytes
always go to the same key. Before uploading, a ``HeadObject`` tells whether the key already
holds these bytes (object metadata ``sha256``) and the upload is skipped; a key holding *other*
bytes is an error, never overwritten, because devices that already run a component built on
that key would fail its checksum. Uploads use boto3's managed transfer (s3transfer: multipart,
threads) and report progress. Metadata ``sha256`` marks an object as pulumi-dda's (no other
object is ever marked or deleted); metadata ``owner`` tells a person browsing the bucket which
stack resource uploaded it.

**Deletion is deferred** (:func:`release_artifacts`, the only way pulumi-dda deletes an
artifact). Another stack may be about to use an object at the moment it looks unused: its
upload found the key in place and skipped, and its ``CreateComponentVersion`` is on the way.
No S3 call can delete "only if nobody is about to use it", so nothing that a version might
reference is deleted inside that window; instead:

- A **release** (destroy, the end of a replacement, the cleanup of a failed create) tags each
  object whose versions it released and that no component version references any more with
  ``pulumi-dda:released-at=<UTC time>`` (``PutObjectTagging``; other tags are kept). It also
  tags every other pulumi-dda object in the same ``<prefix>model_artifacts/`` folder that no
  version references and nobody tagged (left by a release that was killed before tagging, or
  whose version was deleted outside pulumi-dda).
- An object is **deleted** only when its tag is older than the grace period
  (:func:`grace_seconds`) and no component version references it, by the first operation
  that looks at its folder afterwards: a release in the folder, or the sweep at the end of any
  create that publishes into it. Right before ``DeleteObject`` the tag is read again; a
  different or missing tag means the object is in use again, and it stays.
- A **create that reuses** an object (upload skipped) first removes the tag, before its
  ``CreateComponentVersion``. If the tag was old enough for a cleanup to be deleting the object
  at that moment (half the grace period or more: the margin covers clock differences between
  machines), it waits :data:`SETTLE_SECONDS` and looks again, uploading the bytes if they are
  gone. A cleanup gives up on an object when the read of its tag alone took half that time,
  so a delete it sends lands before such a creator looks again.
- Copies ``<key>.deleting`` left by the copy-aside deletion of pulumi-dda before this scheme
  are removed when a cleanup sees them and they are older than the grace period; if their
  original is missing and a version references it, the original is first copied back.
- ``pulumi-dda gc`` (:class:`Collect`) looks at folders like a release: it tags every
  unreferenced untagged object of pulumi-dda and deletes those whose tag is older than the
  grace period. It also aborts multipart uploads into the folder that were never completed
  and show no activity (start, newest part) for longer than the grace period: a running
  upload sends a part every few seconds. Its dry run decides the same way and writes nothing.

With a grace period above 0, no object that a version references or is about to reference
is ever deleted, whatever the interleaving, as long as a ``DeleteObject`` takes effect within
half of :data:`SETTLE_SECONDS` after it is sent and the machines' clocks agree within half the
grace period. (A creator whose object vanished before its ``CreateComponentVersion`` is refused
by the service and uploads again.) A killed or failed operation leaves only tags, which a
later one finishes; nothing is copied, so objects of any size are handled alike. A grace
period of 0 (tests, or forcing a cleanup while no other stack publishes into the folder)
deletes released objects in the same operation and turns this protection off.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING

from . import greengrass
from ._parallel import fan_out
from ._types import Progress, no_progress
from .aws import aws_errors
from .errors import AwsError, ConflictError, DdaError, InputError, NotFoundError
from .sources import parse_s3_uri

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import TagTypeDef

SHA256_META = "sha256"
OWNER_META = "pulumi-dda-owner"
REPORT_EVERY = 0.25
RELEASED_TAG = "pulumi-dda:released-at"
"""The object tag a release puts on an artifact no component version references any more."""
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
GRACE_ENV = "PULUMI_DDA_ARTIFACT_GRACE_SECONDS"
GRACE_SECONDS = 15 * 60.0
"""How long a released artifact stays before a later operation may delete it (seconds).

It must outlast everything that can make a version reference an object without removing its
tag first, so that the reference check before the delete sees that version: a release's tag
written just after a creator removed it (the two ``PutObjectTagging`` calls race; the
creator's version exists a ``CreateComponentVersion`` later), the account-wide listing of
component versions a cleanup makes (minutes in a large account), a version created by a tool
that does not know the tag, and clock differences between the machines that write and read
it. 15 minutes is far above each of these and costs only the storage of an unused package
for a quarter of an hour.
Override it with the environment variable ``PULUMI_DDA_ARTIFACT_GRACE_SECONDS`` (read only by
:func:`grace_seconds`).
"""
SETTLE_SECONDS = 10.0
"""How long a creator reusing an object whose grace period is (nearly) over waits before it
looks at the object again: more than a cleanup's last tag read plus its ``DeleteObject`` take."""
LEGACY_ASIDE = ".deleting"
"""The suffix of the copies the copy-aside deletion of earlier pulumi-dda versions made."""
ARTIFACT_DIR = "model_artifacts/"


def grace_seconds() -> float:
    """The grace period: :data:`GRACE_SECONDS`, or ``PULUMI_DDA_ARTIFACT_GRACE_SECONDS``."""
    raw = os.environ.get(GRACE_ENV, "").strip()
    if not raw:
        return GRACE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{GRACE_ENV}={raw!r}: give a number of seconds, 0 or more")
    return value


@dataclass(frozen=True)
class ArtifactState:
    """What is at an artifact key: whether it exists and the content hash pulumi-dda recorded."""

    exists: bool
    sha256: str = ""


def check_bucket(s3: S3Client, bucket: str, region: str) -> None:
    """The artifact bucket exists, is reachable, and is in ``region`` (one ``HeadBucket``).

    Greengrass reads artifacts only from a bucket in the component's region and checks them
    when the version is created; this finds the problem at preview instead.
    """
    try:
        with aws_errors(f"looking up artifact_bucket {bucket}"):
            head = s3.head_bucket(Bucket=bucket)
    except NotFoundError as exc:
        raise InputError(
            f"artifact_bucket {bucket} does not exist: create it in {region} or name another",
            field="artifact_bucket",
        ) from exc
    except AwsError as exc:
        raise InputError(
            f"artifact_bucket {bucket} is not reachable: {exc}", field="artifact_bucket"
        ) from exc
    found = head.get("BucketRegion") or head["ResponseMetadata"]["HTTPHeaders"].get(
        "x-amz-bucket-region", ""
    )
    if found and found != region:
        raise InputError(
            f"artifact_bucket {bucket} is in {found}, but the component versions are published "
            f"in {region}: Greengrass reads artifacts only from a bucket in the component's region",
            field="artifact_bucket",
        )


def head_artifact(s3: S3Client, bucket: str, key: str) -> ArtifactState:
    try:
        with aws_errors(f"looking up s3://{bucket}/{key}"):
            head = s3.head_object(Bucket=bucket, Key=key)
    except NotFoundError:
        return ArtifactState(exists=False)
    meta = head.get("Metadata", {})
    return ArtifactState(True, meta.get(SHA256_META, ""))


def _object_sha256(s3: S3Client, bucket: str, key: str) -> str:
    digest = hashlib.sha256()
    with aws_errors(f"reading s3://{bucket}/{key}"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        for chunk in body.iter_chunks(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class _UploadProgress:
    def __init__(self, label: str, total: int, progress: Progress) -> None:
        self._label, self._total, self._progress = label, max(total, 1), progress
        self._done = 0
        self._next = REPORT_EVERY
        self._lock = Lock()

    def __call__(self, sent: int) -> None:
        with self._lock:
            self._done += sent
            while self._done / self._total >= self._next:
                self._progress(f"uploading {self._label}: {int(self._next * 100)}%")
                self._next += REPORT_EVERY


def ensure_artifact(
    s3: S3Client,
    bucket: str,
    key: str,
    path: Path,
    sha256: str,
    owner: str,
    progress: Progress = no_progress,
) -> bool:
    """Make ``s3://bucket/key`` hold the file's bytes; ``True`` if this call uploaded them.

    An object already holding them is reused: its release tag is removed first (see the module
    docstring), and it is looked at again after a wait if a cleanup may be deleting it.
    """
    uri = f"s3://{bucket}/{key}"
    for _look in range(3):
        state = head_artifact(s3, bucket, key)
        if not state.exists:
            break
        existing = state.sha256 or _object_sha256(s3, bucket, key)
        if existing != sha256:
            raise ConflictError(
                f"{uri} already holds other bytes (sha256 {existing[:12]}…); an artifact key is "
                "never overwritten because devices verify it against the component's digest"
            )
        if _claim(s3, bucket, key, progress):
            progress(f"{uri} already holds this package; upload skipped")
            return False
    # Missing, or still tagged after every look: the same bytes again are harmless.
    size = path.stat().st_size
    with aws_errors(f"uploading {uri}"):
        s3.upload_file(
            str(path),
            bucket,
            key,
            ExtraArgs={
                "Metadata": {SHA256_META: sha256, OWNER_META: owner},
                "ContentType": "application/zip",
            },
            Callback=_UploadProgress(uri, size, progress),
        )
    progress(f"uploaded {uri} ({size} bytes)")
    return True


def _claim(s3: S3Client, bucket: str, key: str, progress: Progress) -> bool:
    """Remove the release tag of an object about to be used again.

    ``False`` when the caller must look at the object again: it vanished, or its tag was old
    enough that a cleanup may be deleting it right now (then after :data:`SETTLE_SECONDS`).
    """
    uri = f"s3://{bucket}/{key}"
    try:
        tags = _get_tags(s3, bucket, key)
        if RELEASED_TAG not in tags:
            return True
        _put_tags(s3, bucket, key, {k: v for k, v in tags.items() if k != RELEASED_TAG})
    except NotFoundError:
        return False
    grace = grace_seconds()
    age = _age(tags)
    if grace == 0 or (age is not None and age < grace / 2):
        progress(f"{uri} was released and is used again; release tag removed")
        return True
    progress(
        f"{uri} was released {_duration(age)} ago and a cleanup may be deleting it: "
        f"waiting {_duration(SETTLE_SECONDS)}, then looking again"
    )
    time.sleep(SETTLE_SECONDS)
    return False


KEEP, TAG, DELETE, ABORT = "kept", "tag released", "delete", "abort"
"""What a cleanup does with one object or unfinished upload (:class:`Fate`)."""


@dataclass(frozen=True)
class Fate:
    """What a cleanup did, or in a dry run would do, with one object and why (``pulumi-dda
    gc`` prints it). ``done``: the action was taken (always for :data:`KEEP`)."""

    uri: str
    action: str
    reason: str
    done: bool = True


def release_artifacts(
    s3: S3Client,
    gg: GreengrassV2Client,
    released: set[str],
    *,
    places: Iterable[str] = (),
    progress: Progress = no_progress,
    collect: Collect | None = None,
) -> list[Fate]:
    """Tag ``released`` and clean up their folders and those of ``places`` (artifact URIs).

    ``released``: the artifacts of the versions this operation released; each that no
    component version references is tagged released now (the grace period starts again).
    Then every object in the ``model_artifacts/`` folder of each URI is looked at: tagged
    longer ago than the grace period and unreferenced, it is deleted; with ``released`` not
    empty, an untagged unreferenced one is tagged. See the module docstring. ``collect``:
    ``pulumi-dda gc`` (:class:`Collect`). Every object is tried; one error then names each that
    failed. Returns each object's :class:`Fate`.
    """
    collect = collect or Collect(active=False)
    cleanup = _Cleanup(s3, gg, grace_seconds(), progress, collect, bool(released))
    work: dict[tuple[str, str], bool] = {}
    errors: list[str] = []
    uploads: list[Fate] = []
    for bucket, folder in sorted({_folder(uri) for uri in {*released, *places}}):
        if not folder:
            continue
        try:
            for key, modified in _list_folder(s3, bucket, folder).items():
                cleanup.modified[(bucket, key)] = modified
                work[(bucket, key)] = False
            if collect.active:
                uploads += cleanup.unfinished_uploads(bucket, folder)
        except DdaError as exc:
            errors.append(str(exc))
    for uri in released:
        work[parse_s3_uri(uri)] = True

    def tidy(item: tuple[str, str], is_released: bool) -> Fate | str | None:
        try:
            return cleanup.tidy(*item, released=is_released)
        except DdaError as exc:
            return str(exc)

    outcomes = fan_out(dict(sorted(work.items())), tidy)
    errors += [
        e for e in dict.fromkeys(outcomes.values()) if isinstance(e, str) and e not in errors
    ]
    if errors:
        raise DdaError(f"cleaning up artifact objects: {'; '.join(errors)}")
    fates = [f for _, f in sorted(outcomes.items()) if isinstance(f, Fate)]
    return fates + uploads


@dataclass(frozen=True)
class Collect:
    """How ``pulumi-dda gc`` looks at folders, unlike a resource's operation: every
    unreferenced untagged object of pulumi-dda is tagged (as a release does), unfinished
    multipart uploads idle longer than the grace period are aborted (a running upload sends a
    part every few seconds), and with ``dry_run`` nothing is written: each :class:`Fate` says
    what would be done, as if the versions ``forget`` (those gc would delete) were gone."""

    active: bool = True
    dry_run: bool = False
    forget: frozenset[str] = frozenset()


def _folder(uri: str) -> tuple[str, str]:
    """``(bucket, "<prefix>model_artifacts/")`` of an artifact URI (folder ``""`` if none)."""
    bucket, key = parse_s3_uri(uri)
    head, found, _ = key.rpartition(ARTIFACT_DIR)
    return bucket, head + ARTIFACT_DIR if found else ""


def _list_folder(s3: S3Client, bucket: str, folder: str) -> dict[str, datetime]:
    with aws_errors(f"listing s3://{bucket}/{folder}"):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder)
        return {o["Key"]: o["LastModified"] for p in pages for o in p.get("Contents", [])}


class _References:
    """Every artifact URI a component version references, listed once, when first needed;
    the versions in ``forget`` do not count."""

    def __init__(self, gg: GreengrassV2Client, forget: frozenset[str]) -> None:
        self._gg = gg
        self._forget = forget
        self._lock = Lock()
        self._uris: dict[str, list[str]] | None = None

    def users(self, uri: str) -> list[str]:
        """The versions that reference ``uri``."""
        with self._lock:
            if self._uris is None:
                self._uris = greengrass.referenced_artifacts(self._gg)
            return [arn for arn in self._uris.get(uri, []) if arn not in self._forget]

    def __contains__(self, uri: str) -> bool:
        return bool(self.users(uri))


class _Cleanup:
    """The rules of the module docstring for one object at a time (called from threads)."""

    def __init__(
        self,
        s3: S3Client,
        gg: GreengrassV2Client,
        grace: float,
        progress: Progress,
        collect: Collect,
        tag_untagged: bool,
    ) -> None:
        self.s3 = s3
        self.refs = _References(gg, collect.forget)
        self.grace = grace
        self.progress = progress
        self.collect = collect
        self.tag_untagged = tag_untagged or collect.active
        self.modified: dict[tuple[str, str], datetime] = {}

    def tidy(self, bucket: str, key: str, *, released: bool) -> Fate | None:
        """Decide what happens to the object and, unless a dry run, do it (``None``: gone, also
        when another operation deleted it meanwhile: two resources sharing a package destroyed
        at once release it together, and one of them deletes it first)."""
        try:
            return self._tidy(bucket, key, released=released)
        except NotFoundError:
            if head_artifact(self.s3, bucket, key).exists:
                raise
            return None

    def _tidy(self, bucket: str, key: str, *, released: bool) -> Fate | None:
        fate: Fate | None
        if key.endswith(LEGACY_ASIDE):
            fate, mark = self._legacy(bucket, key), ""
        elif released:
            fate, mark = self._release(bucket, key)
        else:
            fate, mark = self._look_at(bucket, key)
        if fate is None or fate.action == KEEP or self.collect.dry_run:
            return fate
        if key.endswith(LEGACY_ASIDE):
            return self._delete_legacy(bucket, key, fate)
        if mark == _TAG_FIRST:
            mark = self._tag(bucket, key)
            if self.grace and released:
                self.progress(
                    f"{fate.uri}: no component version uses it; tagged released, deleted by "
                    f"the first create or destroy in its folder after {_duration(self.grace)}"
                )
            elif not released:
                self.progress(f"{fate.uri}: no component version uses it; tagged released")
            if fate.action == TAG:
                return Fate(fate.uri, TAG, fate.reason)
        return self._delete(bucket, key, mark)

    def _keep(self, uri: str, reason: str) -> tuple[Fate, str]:
        return Fate(uri, KEEP, reason), ""

    def _referenced(self, uri: str) -> tuple[Fate, str]:
        users = self.refs.users(uri)
        if len(users) == 1:
            return self._keep(uri, f"component version {users[0]} uses it")
        return self._keep(uri, f"component versions {', '.join(sorted(users))} use it")

    def _to_tag(self, uri: str) -> tuple[Fate, str]:
        """An unreferenced object of pulumi-dda: tagged released (grace 0: then deleted)."""
        if self.grace == 0:
            return Fate(uri, DELETE, "no component version uses it", False), _TAG_FIRST
        reason = (
            "no component version uses it; deleted once the grace period "
            f"({_duration(self.grace)}) is over, by gc or a create or destroy in its folder"
        )
        return Fate(uri, TAG, reason, False), _TAG_FIRST

    def _release(self, bucket: str, key: str) -> tuple[Fate | None, str]:
        """An object this operation released: tag it (grace 0: delete it)."""
        uri = f"s3://{bucket}/{key}"
        if uri in self.refs:
            if not self.collect.dry_run:
                self.progress(f"{uri} is still used by a component version; left in place")
            return self._referenced(uri)
        if not self._ours(bucket, key):
            return self._keep(uri, NOT_OURS)
        return self._to_tag(uri)

    def _look_at(self, bucket: str, key: str) -> tuple[Fate | None, str]:
        """Another object of the folder: delete it once its tag is older than the grace."""
        uri = f"s3://{bucket}/{key}"
        if self.tag_untagged and uri in self.refs:
            return self._referenced(uri)  # in use (the references are listed anyway)
        try:
            tags = _get_tags(self.s3, bucket, key)
        except NotFoundError:
            return None, ""
        age = _age(tags)
        if age is None:
            if not self.tag_untagged:
                return self._keep(uri, "not tagged released")
            if not self._ours(bucket, key):
                return self._keep(uri, NOT_OURS)
            return self._to_tag(uri)
        if age < self.grace:
            return self._keep(
                uri,
                f"released {_duration(age)} ago; deleted once the grace period "
                f"({_duration(self.grace)}) is over",
            )
        if uri in self.refs:
            return self._referenced(uri)
        if not self._ours(bucket, key):
            return self._keep(uri, NOT_OURS)
        reason = f"released {_duration(age)} ago and no component version uses it"
        return Fate(uri, DELETE, reason, False), tags[RELEASED_TAG]

    def _ours(self, bucket: str, key: str) -> bool:
        return bool(head_artifact(self.s3, bucket, key).sha256)

    def _tag(self, bucket: str, key: str) -> str:
        """Tag the object released now; returns the tag's value."""
        value = datetime.now(UTC).strftime(TIME_FORMAT)
        tags = _get_tags(self.s3, bucket, key)
        _put_tags(self.s3, bucket, key, {**tags, RELEASED_TAG: value})
        return value

    def _delete(self, bucket: str, key: str, mark: str) -> Fate:
        """Delete the object if its release tag is still ``mark`` (the last look)."""
        uri = f"s3://{bucket}/{key}"
        started = time.monotonic()
        try:
            tags = _get_tags(self.s3, bucket, key)
        except NotFoundError:
            return Fate(uri, DELETE, "already gone")
        if tags.get(RELEASED_TAG) != mark:
            self.progress(f"{uri} is used again (its release tag changed); left in place")
            return Fate(uri, KEEP, "used again (its release tag changed)")
        if time.monotonic() - started > SETTLE_SECONDS / 2:
            self.progress(f"{uri}: the last look took too long to delete it safely; left")
            return Fate(uri, KEEP, "the last look at its tag took too long to delete it safely")
        delete_artifact(self.s3, bucket, key)
        self.progress(f"deleted {uri}: released, and no component version uses it")
        return Fate(uri, DELETE, "released, and no component version uses it")

    def _legacy(self, bucket: str, key: str) -> Fate:
        """A ``<key>.deleting`` copy of the earlier copy-aside deletion, once it is old."""
        uri = f"s3://{bucket}/{key}"
        modified = self.modified.get((bucket, key))
        if modified is None or _seconds_since(modified) < self.grace:
            return Fate(uri, KEEP, "a recent copy: an earlier pulumi-dda may still be using it")
        if not self._ours(bucket, key):
            return Fate(uri, KEEP, NOT_OURS)
        reason = f"left by an interrupted artifact delete ({LEGACY_ASIDE} copy)"
        original = key.removesuffix(LEGACY_ASIDE)
        original_uri = f"s3://{bucket}/{original}"
        if not head_artifact(self.s3, bucket, original).exists and original_uri in self.refs:
            reason += f"; {original_uri} restored from it first"
        return Fate(uri, DELETE, reason, False)

    def _delete_legacy(self, bucket: str, key: str, fate: Fate) -> Fate:
        original = key.removesuffix(LEGACY_ASIDE)
        original_uri = f"s3://{bucket}/{original}"
        if not head_artifact(self.s3, bucket, original).exists and original_uri in self.refs:
            copy_artifact(self.s3, bucket, key, original)
            self.progress(f"restored {original_uri} from its copy {LEGACY_ASIDE}")
        delete_artifact(self.s3, bucket, key)
        self.progress(f"deleted s3://{bucket}/{key}, left by an interrupted artifact delete")
        return Fate(fate.uri, DELETE, fate.reason)

    def unfinished_uploads(self, bucket: str, folder: str) -> list[Fate]:
        """Multipart uploads into ``folder`` never completed: aborted when idle longer than
        the grace period (the newest of their start and their parts)."""
        fates = []
        with aws_errors(f"listing unfinished uploads into s3://{bucket}/{folder}"):
            pages = self.s3.get_paginator("list_multipart_uploads").paginate(
                Bucket=bucket, Prefix=folder
            )
            uploads = [u for page in pages for u in page.get("Uploads", [])]
        for upload in uploads:
            key, upload_id = upload["Key"], upload["UploadId"]
            uri = f"s3://{bucket}/{key} (unfinished upload {upload_id[:12]}…)"
            with aws_errors(f"listing the parts of an upload into s3://{bucket}/{key}"):
                parts = self.s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
            times = [upload["Initiated"], *(p["LastModified"] for p in parts.get("Parts", []))]
            idle = _seconds_since(max(times))
            if idle < self.grace:
                fates.append(Fate(uri, KEEP, f"may still be running: active {_duration(idle)} ago"))
                continue
            reason = f"left by an upload that stopped {_duration(idle)} ago"
            if not self.collect.dry_run:
                with aws_errors(f"aborting an unfinished upload into s3://{bucket}/{key}"):
                    self.s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
                self.progress(f"aborted {uri}: {reason}")
            fates.append(Fate(uri, ABORT, reason, not self.collect.dry_run))
        return fates


NOT_OURS = "not uploaded by pulumi-dda (no sha256 metadata)"
_TAG_FIRST = "tag first"
"""The mark of a decision to tag an object released (and with a grace period of 0, to delete
it in the same look, under the tag just written)."""


def _get_tags(s3: S3Client, bucket: str, key: str) -> dict[str, str]:
    with aws_errors(f"reading the tags of s3://{bucket}/{key}"):
        found = s3.get_object_tagging(Bucket=bucket, Key=key)
    return {tag["Key"]: tag["Value"] for tag in found.get("TagSet", [])}


def _put_tags(s3: S3Client, bucket: str, key: str, tags: dict[str, str]) -> None:
    """Replace the object's tags (``DeleteObjectTagging`` for none: moto refuses an empty set)."""
    tag_set: list[TagTypeDef] = [{"Key": k, "Value": v} for k, v in tags.items()]
    with aws_errors(f"tagging s3://{bucket}/{key}"):
        if tag_set:
            s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": tag_set})
        else:
            s3.delete_object_tagging(Bucket=bucket, Key=key)


def _seconds_since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()


def _age(tags: dict[str, str]) -> float | None:
    """Seconds since the release tag's time; ``None`` without a (readable) tag."""
    try:
        marked = datetime.strptime(tags.get(RELEASED_TAG, ""), TIME_FORMAT)
    except ValueError:
        return None
    return _seconds_since(marked.replace(tzinfo=UTC))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def copy_artifact(s3: S3Client, bucket: str, source_key: str, key: str) -> None:
    """Server-side copy within ``bucket``, metadata included (``CopyObject``: up to 5 GiB)."""
    with aws_errors(f"copying s3://{bucket}/{source_key} to {key}"):
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": source_key})


def delete_artifact(s3: S3Client, bucket: str, key: str) -> None:
    """Delete an object (already gone is fine)."""
    try:
        with aws_errors(f"deleting s3://{bucket}/{key}"):
            s3.delete_object(Bucket=bucket, Key=key)
    except NotFoundError:
        return
