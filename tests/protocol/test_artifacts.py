"""Artifacts against the local S3: uploads skip identical bytes and never overwrite other
bytes; deletion is deferred (a release tags, a later look deletes after the grace period)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from artifact_watch import ArtifactWatcher
from lifecycle import artifact_keys
from provider_process import ARTIFACT_BUCKET

from pulumi_dda import artifacts, samples
from pulumi_dda.artifacts import GRACE_ENV, RELEASED_TAG
from pulumi_dda.errors import AwsError, ConflictError, DdaError, InputError
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.sources import parse_s3_uri

KEY = "model_artifacts/model-abc/abc_greengrass_model_component.zip"


@pytest.fixture
def package(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "p.zip"
    path.write_bytes(b"zip bytes" * 1000)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _puts(ep: LocalEndpoint) -> int:
    return sum(1 for r in ep.request_log() if r.operation in {"PutObject", "UploadPart"})


def test_uploads_once_then_skips(ep: LocalEndpoint, s3: Any, package: tuple[Path, str]) -> None:
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    path, sha = package
    lines: list[str] = []
    assert artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o", lines.append)
    assert not artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o", lines.append)
    assert _puts(ep) == 1
    head = s3.head_object(Bucket=ARTIFACT_BUCKET, Key=KEY)
    assert head["Metadata"] == {"sha256": sha, "pulumi-dda-owner": "o"}
    assert any("upload skipped" in line for line in lines)


def test_same_bytes_without_metadata_are_hashed_and_kept(
    ep: LocalEndpoint, s3: Any, package: tuple[Path, str]
) -> None:
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    path, sha = package
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=KEY, Body=path.read_bytes())
    ep.clear_request_log()
    assert not artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o")
    assert _puts(ep) == 0


def test_other_bytes_at_the_key_are_never_overwritten(
    ep: LocalEndpoint, s3: Any, package: tuple[Path, str]
) -> None:
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    path, sha = package
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=KEY, Body=b"something else")
    with pytest.raises(ConflictError, match="already holds other bytes"):
        artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o")
    assert s3.get_object(Bucket=ARTIFACT_BUCKET, Key=KEY)["Body"].read() == b"something else"


def test_a_failed_upload_is_an_aws_error_naming_the_key_and_the_service_code(
    ep: LocalEndpoint, s3: Any, package: tuple[Path, str]
) -> None:
    """boto3's managed upload raises S3UploadFailedError, not a ClientError: the error
    boundary translates it like every other AWS error."""
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    path, sha = package
    ep.inject_fault("PutObject", "AccessDenied", count=20, status=403, service="s3")
    with pytest.raises(AwsError) as info:
        artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, KEY, path, sha, "o")
    assert info.value.code == "AccessDenied"
    assert str(info.value).startswith(f"uploading s3://{ARTIFACT_BUCKET}/{KEY}: AccessDenied:")


def test_a_missing_bucket_is_refused_at_check_time(s3: Any) -> None:
    with pytest.raises(InputError, match="artifact_bucket nowhere does not exist") as info:
        artifacts.check_bucket(s3, "nowhere", "us-east-1")
    assert info.value.field == "artifact_bucket"


# Deferred deletion ---------------------------------------------------------------------------

URI = f"s3://{ARTIFACT_BUCKET}/{KEY}"
OTHER_KEY = "model_artifacts/model-def/def_greengrass_model_component.zip"
FORGOTTEN_KEY = "model_artifacts/model-old/old_greengrass_model_component.zip"


def _put_package(s3: Any, package: tuple[Path, str], key: str = KEY) -> str:
    """A pulumi-dda artifact object (uploaded with its metadata); its URI."""
    path, sha = package
    artifacts.ensure_artifact(s3, ARTIFACT_BUCKET, key, path, sha, "o")
    return f"s3://{ARTIFACT_BUCKET}/{key}"


@pytest.fixture
def bucket(s3: Any) -> str:
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    return ARTIFACT_BUCKET


def _tags(s3: Any, key: str = KEY) -> dict[str, str]:
    return {
        t["Key"]: t["Value"]
        for t in s3.get_object_tagging(Bucket=ARTIFACT_BUCKET, Key=key)["TagSet"]
    }


def _exists(s3: Any, key: str = KEY) -> bool:
    found = s3.list_objects_v2(Bucket=ARTIFACT_BUCKET, Prefix=key).get("Contents", [])
    return any(o["Key"] == key for o in found)


def _version_on(gg: Any, uri: str, name: str = "model-other-stack") -> str:
    """Another stack's DEPLOYABLE component version on ``uri``; its ARN."""
    recipe = {
        "RecipeFormatVersion": "2020-01-25",
        "ComponentName": name,
        "ComponentVersion": "1.0.0",
        "Manifests": [{"Platform": {"os": "linux"}, "Artifacts": [{"URI": uri}]}],
    }
    arn = str(gg.create_component_version(inlineRecipe=json.dumps(recipe))["arn"])
    deadline = time.monotonic() + 10
    while gg.describe_component(arn=arn)["status"]["componentState"] != "DEPLOYABLE":
        assert time.monotonic() < deadline, f"{arn} never became DEPLOYABLE"
        time.sleep(0.02)
    return arn


def _released_ago(s3: Any, seconds: float, key: str = KEY) -> None:
    """Tag the object as released ``seconds`` ago (what a release long ago left)."""
    when = datetime.now(UTC) - timedelta(seconds=seconds)
    tag = {"Key": RELEASED_TAG, "Value": when.strftime(artifacts.TIME_FORMAT)}
    s3.put_object_tagging(Bucket=ARTIFACT_BUCKET, Key=key, Tagging={"TagSet": [tag]})


def test_grace_period_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(GRACE_ENV, raising=False)
    assert artifacts.grace_seconds() == 15 * 60
    monkeypatch.setenv(GRACE_ENV, "2.5")
    assert artifacts.grace_seconds() == 2.5
    for bad in ("-1", "soon", "nan", "inf"):
        monkeypatch.setenv(GRACE_ENV, bad)
        with pytest.raises(InputError, match=f"{GRACE_ENV}='{bad}': give a number of seconds"):
            artifacts.grace_seconds()


def test_a_release_tags_what_no_version_uses_and_deletes_nothing(
    s3: Any, gg: Any, bucket: str, package: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Default grace: the released object, and an untagged unused one in the same folder (left
    by a killed release), are tagged with the time; one a version uses is left untagged."""
    monkeypatch.delenv(GRACE_ENV, raising=False)
    uri = _put_package(s3, package)
    forgotten = _put_package(
        s3, package, "model_artifacts/model-old/old_greengrass_model_component.zip"
    )
    used = _put_package(s3, package, OTHER_KEY)
    _version_on(gg, used)
    lines: list[str] = []
    before = datetime.now(UTC)
    artifacts.release_artifacts(s3, gg, {uri}, progress=lines.append)
    assert parse_s3_uri(forgotten)[1] == FORGOTTEN_KEY
    for key in (KEY, FORGOTTEN_KEY):
        assert _exists(s3, key)
        tagged = datetime.strptime(_tags(s3, key)[RELEASED_TAG], artifacts.TIME_FORMAT)
        assert abs((tagged.replace(tzinfo=UTC) - before).total_seconds()) < 5
    assert _exists(s3, OTHER_KEY)
    assert _tags(s3, OTHER_KEY) == {}
    assert f"{uri}: no component version uses it; tagged released" in "\n".join(lines)


def test_a_later_look_deletes_what_was_released_longer_ago_than_the_grace_period(
    s3: Any, gg: Any, bucket: str, package: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(GRACE_ENV, "1")
    uri = _put_package(s3, package)
    used = _put_package(s3, package, OTHER_KEY)
    _version_on(gg, used)
    artifacts.release_artifacts(s3, gg, {uri})
    artifacts.release_artifacts(s3, gg, set(), places={used})  # a create in the folder
    assert _exists(s3)  # released less than the grace period ago
    time.sleep(1.1)
    lines: list[str] = []
    artifacts.release_artifacts(s3, gg, set(), places={used}, progress=lines.append)
    assert not _exists(s3)
    assert _exists(s3, OTHER_KEY)
    assert f"deleted {uri}: released, and no component version uses it" in lines


def test_an_old_release_tag_on_an_object_a_version_uses_deletes_nothing(
    s3: Any, gg: Any, bucket: str, package: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release's tag can land just after a creator took it off (two PutObjectTagging race):
    the version the creator made keeps the object, however old the tag."""
    monkeypatch.setenv(GRACE_ENV, "0")
    uri = _put_package(s3, package)
    _version_on(gg, uri)
    _released_ago(s3, 3600)
    artifacts.release_artifacts(s3, gg, set(), places={uri})
    assert _exists(s3)


def test_the_delete_reads_the_tag_again_right_before_deleting(
    ep: LocalEndpoint, s3: Any, gg: Any, bucket: str, package: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A creator reusing the object takes the tag off after the cleanup's first look: the
    cleanup's last look sees it and keeps the object."""
    monkeypatch.setenv(GRACE_ENV, "1")
    uri = _put_package(s3, package)
    _released_ago(s3, 60)
    creator = ep.client("s3")

    def creator_takes_the_tag_off(**_: Any) -> None:  # between the first and the last look
        creator.delete_object_tagging(Bucket=ARTIFACT_BUCKET, Key=KEY)

    s3.meta.events.register("before-call.s3.HeadObject", creator_takes_the_tag_off)
    lines: list[str] = []
    artifacts.release_artifacts(s3, gg, set(), places={uri}, progress=lines.append)
    assert _exists(s3)
    assert f"{uri} is used again (its release tag changed); left in place" in lines


@pytest.mark.parametrize("point", range(10))
def test_another_stack_reusing_the_object_at_any_point_of_a_release_keeps_it(
    ep: LocalEndpoint, s3: Any, gg: Any, bucket: str, package: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch, point: int,
) -> None:  # fmt: skip
    """The object's own version is gone (released); before the release's ``point``-th AWS call
    (or after its last), another stack publishes a version on the same object: its upload
    finds the object in place and skips, then it creates its version. Before every call, and
    at the end, each DEPLOYABLE version's artifact must exist."""
    monkeypatch.delenv(GRACE_ENV, raising=False)
    uri = _put_package(s3, package)
    gg.delete_component(arn=_version_on(gg, uri, "model-released"))
    other_s3, other_gg = ep.client("s3"), ep.client("greengrassv2")
    watcher = ArtifactWatcher(other_gg, other_s3)
    calls: list[str] = []
    created: list[str] = []

    def other_stack_publishes() -> None:
        path, sha = package
        artifacts.ensure_artifact(other_s3, ARTIFACT_BUCKET, KEY, path, sha, "prod")
        created.append(_version_on(other_gg, uri))

    def before_each_call(event_name: str, **_: Any) -> None:
        watcher.look_once()
        if len(calls) == point:
            other_stack_publishes()
        calls.append(event_name)

    for client in (s3, gg):
        client.meta.events.register("before-call.*.*", before_each_call)
    artifacts.release_artifacts(s3, gg, {uri})
    for client in (s3, gg):
        client.meta.events.unregister("before-call.*.*", before_each_call)
    if not created:
        other_stack_publishes()
    watcher.look_once()
    watcher.check()
    assert other_gg.describe_component(arn=created[0])["status"]["componentState"] == "DEPLOYABLE"
    assert _exists(s3)
    # However old its tag may get: the version keeps the object.
    monkeypatch.setenv(GRACE_ENV, "0")
    artifacts.release_artifacts(other_s3, other_gg, set(), places={uri})
    assert _exists(s3)


@pytest.mark.parametrize("held", ["GetObjectTagging", "PutObjectTagging"])
def test_two_releases_of_one_object_at_once_both_succeed(
    ep: LocalEndpoint, s3: Any, gg: Any, bucket: str, package: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch, held: str,
) -> None:  # fmt: skip
    """Two resources sharing a package are destroyed at once (grace 0): the first release's
    tag call is held back while the second deletes the object; the first then finds it gone,
    which is what it wanted, not an error (the destroy used to fail with NoSuchKey)."""
    monkeypatch.setenv(GRACE_ENV, "0")
    uri = _put_package(s3, package)
    ep.inject_fault(held, "", 1, delay=2.0, service="s3")
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(artifacts.release_artifacts, s3, gg, {uri})
        deadline = time.monotonic() + 10
        while ep.faults():  # the first release's tag call has arrived and is held back
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second = artifacts.release_artifacts(ep.client("s3"), ep.client("greengrassv2"), {uri})
        assert first.result() == []  # nothing left to decide about: the object is gone
    assert [(f.uri, f.action) for f in second] == [(uri, artifacts.DELETE)]
    assert not _exists(s3)


def test_a_reuse_while_a_cleanup_deletes_the_object_uploads_it_again(
    ep: LocalEndpoint, s3: Any, gg: Any, bucket: str, package: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The grace period is over and a cleanup has read the tag for the last time; its delete
    is on the way (slow). Another stack reuses the object just then: it takes the tag off,
    waits for that delete to land, finds the object gone and uploads it again, so the version
    it creates never misses its artifact."""
    monkeypatch.setenv(GRACE_ENV, "1")
    uri = _put_package(s3, package)
    _released_ago(s3, 60)
    ep.inject_fault("DeleteObject", "", 1, delay=3.0, service="s3")
    cleanup = threading.Thread(
        target=lambda: artifacts.release_artifacts(s3, gg, set(), places={uri})
    )
    other_s3, other_gg = ep.client("s3"), ep.client("greengrassv2")
    with ArtifactWatcher(ep.client("greengrassv2"), ep.client("s3")) as watcher:
        cleanup.start()
        deadline = time.monotonic() + 10
        while ep.faults():  # the cleanup's delete has arrived and is held back
            assert time.monotonic() < deadline
            time.sleep(0.01)
        path, sha = package
        lines: list[str] = []
        uploaded = artifacts.ensure_artifact(
            other_s3, ARTIFACT_BUCKET, KEY, path, sha, "prod", lines.append
        )
        arn = _version_on(other_gg, uri)
        cleanup.join()
        time.sleep(0.2)  # a last look by the watcher after the delete
    watcher.check()
    assert uploaded
    assert any("a cleanup may be deleting it" in line for line in lines)
    assert _exists(s3)
    assert other_gg.describe_component(arn=arn)["status"]["componentState"] == "DEPLOYABLE"


def test_copies_left_by_the_old_copy_aside_delete_are_removed_once_old(
    s3: Any, gg: Any, bucket: str, package: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``<key>.deleting``: removed when a cleanup sees it and it is older than the grace
    period; when its original is gone and a version uses it, the original comes back first."""
    kept_uri = _put_package(s3, package)
    lost_uri = _put_package(s3, package, OTHER_KEY)
    _version_on(gg, lost_uri)
    for key in (KEY, OTHER_KEY):
        copy = {"Bucket": ARTIFACT_BUCKET, "Key": key}
        s3.copy_object(Bucket=ARTIFACT_BUCKET, Key=key + ".deleting", CopySource=copy)
    s3.delete_object(Bucket=ARTIFACT_BUCKET, Key=OTHER_KEY)  # killed between delete and restore
    monkeypatch.delenv(GRACE_ENV, raising=False)
    artifacts.release_artifacts(s3, gg, set(), places={kept_uri})
    assert _exists(s3, KEY + ".deleting")  # young: an older pulumi-dda may still use it
    monkeypatch.setenv(GRACE_ENV, "0")
    artifacts.release_artifacts(s3, gg, set(), places={kept_uri})
    assert not _exists(s3, KEY + ".deleting")
    assert not _exists(s3, OTHER_KEY + ".deleting")
    restored = s3.head_object(Bucket=ARTIFACT_BUCKET, Key=OTHER_KEY)
    assert restored["Metadata"][artifacts.SHA256_META] == package[1]
    assert _exists(s3, KEY)


def test_one_failing_object_does_not_stop_or_hide_the_others(
    ep: LocalEndpoint, s3: Any, gg: Any, bucket: str, package: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv(GRACE_ENV, raising=False)
    uris = {_put_package(s3, package), _put_package(s3, package, OTHER_KEY)}
    ep.inject_fault("PutObjectTagging", "AccessDenied", 1, status=403, service="s3")
    with pytest.raises(DdaError) as info:
        artifacts.release_artifacts(s3, gg, uris)
    message = str(info.value)
    assert message.startswith("cleaning up artifact objects: tagging s3://edge-artifacts/")
    assert message.count("Injected AccessDenied") == 1
    tagged = [key for key in (KEY, OTHER_KEY) if RELEASED_TAG in _tags(s3, key)]
    assert len(tagged) == 1
    assert f"s3://{ARTIFACT_BUCKET}/{tagged[0]}" not in message


# Through the provider: destroy tags, a later create deletes --------------------------------


@pytest.mark.parametrize("kind", ["plugin"])
@pytest.mark.parametrize("grace", ["1", ""])
def test_a_destroy_tags_its_artifacts_and_a_create_after_the_grace_period_deletes_them(
    provider_with_grace: Callable[[str, str], Any], kind: str, grace: str, news: dict[str, Any],
    s3: Any, upload: Callable[[str, Path], str], tmp_path: Path,
) -> None:  # fmt: skip
    """Dev's destroy leaves its packages, tagged released. After the grace period (1 s here),
    prod's create of other packages in the same folder deletes them; with the default grace
    period they stay, tagged."""
    provider = provider_with_grace(kind, grace)
    dev_inputs, _ = provider.check({}, {**news, "owner": "pulumi-dda/dev/model"})
    dev_id, dev = provider.create(dev_inputs)
    dev_keys = artifact_keys(s3)
    provider.delete(dev_id, dev)
    assert artifact_keys(s3) == dev_keys
    assert all(RELEASED_TAG in _tags(s3, key) for key in dev_keys)
    time.sleep(1.2)
    compiled = {
        target: upload(
            f"neo/{target}/v2.tar.gz", samples.write_compiled_model(path, seed=7 + i, target=target)
        )
        for i, target in enumerate(news["compiled_models"])
        if (path := tmp_path / f"{target}.tar.gz")
    }
    prod_news = {**news, "owner": "pulumi-dda/prod/model", "compiled_models": compiled}
    prod_inputs, failures = provider.check({}, prod_news)
    assert failures == []
    _prod_id, prod = provider.create(prod_inputs)
    prod_keys = sorted(c["artifact_uri"].split("/", 3)[3] for c in prod["components"].values())
    assert not set(prod_keys) & set(dev_keys)
    if grace:
        assert artifact_keys(s3) == prod_keys
    else:
        assert artifact_keys(s3) == sorted(dev_keys + prod_keys)
        assert all(RELEASED_TAG in _tags(s3, key) for key in dev_keys)
    assert not any(RELEASED_TAG in _tags(s3, key) for key in prod_keys)


@pytest.mark.parametrize("kind", ["plugin"])
def test_a_create_reusing_a_released_artifact_takes_the_tag_off_before_creating_its_version(
    provider_with_grace: Callable[[str, str], Any], kind: str, ep: LocalEndpoint,
    news: dict[str, Any], s3: Any, gg: Any,
) -> None:  # fmt: skip
    provider = provider_with_grace(kind, "")
    dev_inputs, _ = provider.check({}, {**news, "owner": "pulumi-dda/dev/model"})
    dev_id, dev = provider.create(dev_inputs)
    provider.delete(dev_id, dev)
    keys = artifact_keys(s3)
    assert all(RELEASED_TAG in _tags(s3, key) for key in keys)
    ep.clear_request_log()
    prod_inputs, _ = provider.check({}, {**news, "owner": "pulumi-dda/prod/model"})
    prod_id, prod = provider.create(prod_inputs)
    log = ep.request_log()
    for component in prod["components"].values():
        key = component["artifact_uri"].split("/", 3)[3]
        assert _tags(s3, key) == {}
        assert not [r for r in log if r.operation == "PutObject" and key in r.path]  # reused
        untagged = [r.time for r in log if r.operation == "DeleteObjectTagging" and key in r.path]
        created = gg.describe_component(arn=component["arn"])["creationTimestamp"].timestamp()
        assert untagged
        assert untagged[0] <= created  # the tag was off before the version was created
    provider.delete(prod_id, prod)
    assert artifact_keys(s3) == keys
    assert all(RELEASED_TAG in _tags(s3, key) for key in keys)
