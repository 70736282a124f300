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


def release_artifacts(
    s3: S3Client,
    gg: GreengrassV2Client,
    released: set[str],
    *,
    places: Iterable[str] = (),
    progress: Progress = no_progress,
) -> None:
    """Tag ``released`` and clean up their folders and those of ``places`` (artifact URIs).

    ``released``: the artifacts of the versions this operation released; each that no
    component version references is tagged released now (the grace period starts again).
    Then every object in the ``model_artifacts/`` folder of each URI is looked at: tagged
    longer ago than the grace period and unreferenced, it is deleted; with ``released`` not
    empty, an untagged unreferenced one is tagged. See the module docstring. Every object is
    tried; one error then names each that failed.
    """
    cleanup = _Cleanup(s3, gg, grace_seconds(), progress, tag_untagged=bool(released))
    work: dict[tuple[str, str], bool] = {}
    errors: list[str] = []
    for bucket, folder in sorted({_folder(uri) for uri in {*released, *places}}):
        if not folder:
            continue
        try:
            for key, modified in _list_folder(s3, bucket, folder).items():
                cleanup.modified[(bucket, key)] = modified
                work[(bucket, key)] = False
        except DdaError as exc:
            errors.append(str(exc))
    for uri in released:
        work[parse_s3_uri(uri)] = True

    def tidy(item: tuple[str, str], is_released: bool) -> str:
        try:
            cleanup.tidy(*item, released=is_released)
        except DdaError as exc:
            return str(exc)
        return ""

    outcomes = fan_out(dict(sorted(work.items())), tidy)
    errors += [e for e in dict.fromkeys(outcomes.values()) if e and e not in errors]
    if errors:
        raise DdaError(f"cleaning up artifact objects: {'; '.join(errors)}")


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
    """Every artifact URI a component version references, listed once, when first needed."""

    def __init__(self, gg: GreengrassV2Client) -> None:
        self._gg = gg
        self._lock = Lock()
        self._uris: set[str] | None = None

    def __contains__(self, uri: str) -> bool:
        with self._lock:
            if self._uris is None:
                self._uris = greengrass.referenced_artifacts(self._gg)
            return uri in self._uris


class _Cleanup:
    """The rules of the module docstring for one object at a time (called from threads)."""

    def __init__(
        self,
        s3: S3Client,
        gg: GreengrassV2Client,
        grace: float,
        progress: Progress,
        *,
        tag_untagged: bool,
    ) -> None:
        self.s3 = s3
        self.refs = _References(gg)
        self.grace = grace
        self.progress = progress
        self.tag_untagged = tag_untagged
        self.modified: dict[tuple[str, str], datetime] = {}

    def tidy(self, bucket: str, key: str, *, released: bool) -> None:
        if key.endswith(LEGACY_ASIDE):
            self._legacy(bucket, key)
            return
        mark = self._release(bucket, key) if released else self._look_at(bucket, key)
        if mark is not None:
            self._delete(bucket, key, mark)

    def _release(self, bucket: str, key: str) -> str | None:
        """Tag an object this operation released; its tag if it is to be deleted now."""
        uri = f"s3://{bucket}/{key}"
        if uri in self.refs:
            self.progress(f"{uri} is still used by a component version; left in place")
            return None
        if not self._ours(bucket, key):
            return None
        mark = self._tag(bucket, key)
        if self.grace == 0:
            return mark
        self.progress(
            f"{uri}: no component version uses it; tagged released, deleted by the first "
            f"create or destroy in its folder after {_duration(self.grace)}"
        )
        return None

    def _look_at(self, bucket: str, key: str) -> str | None:
        """Another object of the folder: its tag if it is to be deleted now."""
        uri = f"s3://{bucket}/{key}"
        if self.tag_untagged and uri in self.refs:
            return None  # in use (the references are listed anyway): not even its tags read
        try:
            tags = _get_tags(self.s3, bucket, key)
        except NotFoundError:
            return None
        age = _age(tags)
        if age is None:
            if not self.tag_untagged or not self._ours(bucket, key):
                return None
            mark = self._tag(bucket, key)
            self.progress(f"{uri}: no component version uses it; tagged released")
            return mark if self.grace == 0 else None
        if age < self.grace or uri in self.refs or not self._ours(bucket, key):
            return None
        return tags[RELEASED_TAG]

    def _ours(self, bucket: str, key: str) -> bool:
        return bool(head_artifact(self.s3, bucket, key).sha256)

    def _tag(self, bucket: str, key: str) -> str:
        """Tag the object released now; returns the tag's value."""
        value = datetime.now(UTC).strftime(TIME_FORMAT)
        tags = _get_tags(self.s3, bucket, key)
        _put_tags(self.s3, bucket, key, {**tags, RELEASED_TAG: value})
        return value

    def _delete(self, bucket: str, key: str, mark: str) -> None:
        """Delete the object if its release tag is still ``mark`` (the last look)."""
        uri = f"s3://{bucket}/{key}"
        started = time.monotonic()
        try:
            tags = _get_tags(self.s3, bucket, key)
        except NotFoundError:
            return
        if tags.get(RELEASED_TAG) != mark:
            self.progress(f"{uri} is used again (its release tag changed); left in place")
            return
        if time.monotonic() - started > SETTLE_SECONDS / 2:
            self.progress(f"{uri}: the last look took too long to delete it safely; left")
            return
        delete_artifact(self.s3, bucket, key)
        self.progress(f"deleted {uri}: released, and no component version uses it")

    def _legacy(self, bucket: str, key: str) -> None:
        """A ``<key>.deleting`` copy of the earlier copy-aside deletion, once it is old."""
        modified = self.modified.get((bucket, key))
        if modified is None or _seconds_since(modified) < self.grace:
            return  # an earlier pulumi-dda may still be deleting with it
        if not self._ours(bucket, key):
            return
        original = key.removesuffix(LEGACY_ASIDE)
        original_uri = f"s3://{bucket}/{original}"
        if not head_artifact(self.s3, bucket, original).exists and original_uri in self.refs:
            copy_artifact(self.s3, bucket, key, original)
            self.progress(f"restored {original_uri} from its copy {LEGACY_ASIDE}")
        delete_artifact(self.s3, bucket, key)
        self.progress(f"deleted s3://{bucket}/{key}, left by an interrupted artifact delete")


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
