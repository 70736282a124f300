"""A source written again after check: create packages exactly the object check looked up
(and fingerprinted), or fails naming the input, and leaves nothing behind.

Check records each source's identity (ETag and version id, or a local file's SHA-256) and the
fingerprints are computed from it; create reads that object and no other. Without versioning
the ETag is all that names it, so an overwrite since check fails create (``If-Match``); with
versioning the version check looked up is read, so the package holds what the preview showed.
The trained model is read at check only (create packages the manifest check recorded), so
its window is between check's ``HeadObject`` and its ``GetObject``.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lifecycle import artifact_keys, published_versions, up
from plugin_harness import PluginProviderProcess
from provider_process import MODELS_BUCKET, ProviderError

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.ownership import FINGERPRINT_TAG
from pulumi_dda.package import build_package

Provider = PluginProviderProcess
X86_KEY = "neo/x86/model.tar.gz"
X86_URI = f"s3://{MODELS_BUCKET}/{X86_KEY}"
OTHER_STACK = "pulumi-dda/prod/model"


def _etag(s3: Any, key: str) -> str:
    return str(s3.head_object(Bucket=MODELS_BUCKET, Key=key)["ETag"]).strip('"')


def _digest_of(compiled: Path, checked: dict[str, Any], out: Path) -> str:
    """The artifact digest of the package of ``compiled`` with the manifest check recorded."""
    with compiled.open("rb") as stream:
        package = build_package(stream, checked["__manifest"], checked["model_name"], out)
    return package.digest


def test_a_source_overwritten_after_check_fails_create_and_is_never_adopted(
    provider: Provider,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
    gg: Any,
    s3: Any,
) -> None:
    """Without versioning. Before the fix, create packaged the new bytes under the old
    object's fingerprint, and a second stack whose source is the old object adopted them."""
    checked, failures = provider.check({}, news)
    assert failures == []
    old_etag = _etag(s3, X86_KEY)
    upload(X86_KEY, samples.write_compiled_model(tmp_path / "new.tar.gz", seed=11))
    new_etag = _etag(s3, X86_KEY)
    try:
        provider.create(checked)
        error = ""
    except ProviderError as exc:
        error = str(exc)
    left = (published_versions(gg), artifact_keys(s3))

    # A second stack whose source is the checked object (its bytes put back: the same ETag)
    # has the same fingerprint; whatever it finds or makes holds the checked object's bytes.
    upload(X86_KEY, tmp_path / "x86.tar.gz")
    assert _etag(s3, X86_KEY) == old_etag
    _id, inputs, other = up(provider, {**news, "owner": OTHER_STACK})
    assert inputs["__fingerprints"] == checked["__fingerprints"]
    x86 = other["components"]["x86_64-cpu"]
    assert x86["digest"] == _digest_of(tmp_path / "x86.tar.gz", checked, tmp_path / "expected")
    assert x86["adopted"] is False  # nothing was left to adopt

    assert error == (
        f"target x86_64-cpu: packaging: compiled_models.x86_64-cpu {X86_URI} changed since the "
        f"preview (etag {old_etag} → {new_etag}): run up again"
    )
    assert left == ([], [])


def test_a_versioned_source_overwritten_after_check_publishes_the_checked_version(
    provider: Provider,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
    gg: Any,
    s3: Any,
) -> None:
    """With versioning, the key's version check looked up is read: the package holds what the
    preview showed (the fingerprint's object), not what was written to the key since."""
    s3.put_bucket_versioning(Bucket=MODELS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    upload(X86_KEY, tmp_path / "x86.tar.gz")  # again, now as a version
    version = s3.head_object(Bucket=MODELS_BUCKET, Key=X86_KEY)["VersionId"]
    checked, failures = provider.check({}, news)
    assert failures == []
    identity = checked["__source_identities"]["compiled_models.x86_64-cpu"]
    assert identity == f"etag:{_etag(s3, X86_KEY)};version:{version}"
    upload(X86_KEY, samples.write_compiled_model(tmp_path / "new.tar.gz", seed=11))

    _id, outs = provider.create(checked)
    x86 = outs["components"]["x86_64-cpu"]
    assert x86["digest"] == _digest_of(tmp_path / "x86.tar.gz", checked, tmp_path / "expected")
    tags = gg.list_tags_for_resource(resourceArn=x86["arn"])["tags"]
    assert tags[FINGERPRINT_TAG] == checked["__fingerprints"]["x86_64-cpu"]
    # A second stack pinned to that version has the same fingerprint and adopts it.
    pinned = f"{X86_URI}?versionId={version}"
    compiled = {**news["compiled_models"], "x86_64-cpu": pinned}
    _id, _, other = up(provider, {**news, "owner": OTHER_STACK, "compiled_models": compiled})
    assert other["components"]["x86_64-cpu"]["adopted"] is True
    assert other["components"]["x86_64-cpu"]["arn"] == x86["arn"]


def test_a_trained_model_overwritten_while_check_reads_it_fails_the_check(
    provider: Provider,
    ep: LocalEndpoint,
    news: dict[str, Any],
    tmp_path: Path,
    s3: Any,
) -> None:
    """Between check's ``HeadObject`` of the trained model (its identity) and its
    ``GetObject`` (the manifest), held two seconds by the endpoint, the key is written again.
    Before the fix, check recorded the new model's manifest under the old identity."""
    key = "train/model.tar.gz"
    retrained = samples.write_trained_model(
        tmp_path / "t2.tar.gz", config={"dataset": {"image_width": 320, "image_height": 240}}
    )
    old_etag = _etag(s3, key)
    ep.clear_request_log()
    ep.inject_fault("GetObject", "", delay=2.0, service="s3")
    writer = ep.client("s3")

    def overwrite_after_the_lookup() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(r.operation == "HeadObject" and key in r.path for r in ep.request_log()):
                writer.upload_file(str(retrained), MODELS_BUCKET, key)
                return
            time.sleep(0.005)

    thread = threading.Thread(target=overwrite_after_the_lookup)
    thread.start()
    try:
        _inputs, failures = provider.check({}, news)
    finally:
        thread.join()
    assert failures == [
        (
            "trained_model_uri",
            f"trained_model_uri s3://{MODELS_BUCKET}/{key} changed while the check read it "
            f"(etag {old_etag} → {_etag(s3, key)}): run the preview or up again",
        )
    ]


def test_a_local_source_changed_after_check_fails_create_and_leaves_nothing(
    provider: Provider, news: dict[str, Any], tmp_path: Path, gg: Any, s3: Any
) -> None:
    local = tmp_path / "local" / "x86.tar.gz"
    local.parent.mkdir()
    shutil.copyfile(tmp_path / "x86.tar.gz", local)
    compiled = {**news["compiled_models"], "x86_64-cpu": str(local)}
    checked, failures = provider.check({}, {**news, "compiled_models": compiled})
    assert failures == []
    old = hashlib.sha256(local.read_bytes()).hexdigest()
    assert checked["__source_identities"]["compiled_models.x86_64-cpu"] == f"sha256:{old}"
    samples.write_compiled_model(local, seed=11)
    new = hashlib.sha256(local.read_bytes()).hexdigest()
    with pytest.raises(ProviderError) as info:
        provider.create(checked)
    assert str(info.value) == (
        f"target x86_64-cpu: packaging: compiled_models.x86_64-cpu {local} changed since the "
        f"preview (sha256 {old} → {new}): run up again"
    )
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []
