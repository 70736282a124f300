"""A component's identity is its content, never S3 bookkeeping.

Promotion needs versioned source buckets, where uploading byte-identical files again gives
every object a new version id. Nothing may follow from that: the versions stay, the diff is
empty, a pinned ``component_version`` is not "other content", and another stack from the same
bytes adopts the versions rather than publishing its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from plugin_harness import PluginProviderProcess
from provider_process import MODELS_BUCKET
from pulumi.runtime.proto import provider_pb2

Provider = PluginProviderProcess
KEYS = ("train/model.tar.gz", "neo/x86/model.tar.gz", "neo/jx/model.tar.gz")


def _upload_the_same_bytes_again(s3: Any, tmp_path: Path) -> None:
    """Each source object again, byte for byte: a new version id, the same ETag."""
    for key in KEYS:
        copy = tmp_path / key.replace("/", "-")
        s3.download_file(MODELS_BUCKET, key, str(copy))
        before = s3.head_object(Bucket=MODELS_BUCKET, Key=key)
        s3.upload_file(str(copy), MODELS_BUCKET, key)
        after = s3.head_object(Bucket=MODELS_BUCKET, Key=key)
        assert after["VersionId"] != before.get("VersionId")
        assert after["ETag"] == before["ETag"]


def _versioned(s3: Any, tmp_path: Path) -> None:
    s3.put_bucket_versioning(Bucket=MODELS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    _upload_the_same_bytes_again(s3, tmp_path)  # every source now has a version id


def test_identical_bytes_uploaded_again_change_nothing(
    provider: Provider, news: dict[str, Any], s3: Any, gg: Any, tmp_path: Path
) -> None:
    _versioned(s3, tmp_path)
    omitted = {**news, "component_version": ""}
    inputs, failures = provider.check({}, omitted)
    assert failures == []
    id_, outs = provider.create(inputs)
    _upload_the_same_bytes_again(s3, tmp_path)

    again, failures = provider.check(inputs, omitted)
    assert failures == []
    assert again["versions"] == inputs["versions"]
    assert set(again["plan"].values()) == {"unchanged"}
    assert provider.diff(id_, outs, again).changes == provider_pb2.DiffResponse.DIFF_NONE

    # Another stack (or a replacement, whose re-check has no old state) from the same bytes
    # takes the same versions over instead of publishing new ones.
    other, failures = provider.check({}, {**omitted, "owner": "pulumi-dda/prod/model"})
    assert failures == []
    assert other["versions"] == inputs["versions"]
    _id, adopted = provider.create(other)
    assert {c["adopted"] for c in adopted["components"].values()} == {True}
    assert adopted["components"] == {
        t: {**c, "adopted": True} for t, c in outs["components"].items()
    }


def test_a_pinned_version_of_identical_bytes_is_not_other_content(
    provider: Provider,
    news: dict[str, Any],
    s3: Any,
    tmp_path: Path,
    upload: Callable[[str, Path], str],
) -> None:
    _versioned(s3, tmp_path)
    inputs, failures = provider.check({}, news)
    assert failures == []
    provider.create(inputs)
    _upload_the_same_bytes_again(s3, tmp_path)
    checked, failures = provider.check({}, news)  # a new stack, or the engine's re-check
    assert failures == []
    assert checked["versions"] == inputs["versions"]
