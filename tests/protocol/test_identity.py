"""Which version is whose: per-target versions, pin/unpin, holders, deployments, crashes.

Each test drives the real dynamic-provider gRPC server against the local endpoint, playing the
engine's part: ``check`` with the old inputs, ``diff`` against the old outputs, ``create`` of a
replacement before the ``delete`` of its predecessor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lifecycle import artifact_keys, published_versions, up
from plugin_harness import PluginProviderProcess
from provider_process import MODELS_BUCKET, ProviderError
from pulumi.runtime.proto import provider_pb2

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint

Provider = PluginProviderProcess
X86_ARN = "arn:aws:greengrass:us-east-1:123456789012:components:model-defects-x86-64-cpu"


def _omitted(news: dict[str, Any]) -> dict[str, Any]:
    return {**news, "component_version": ""}


def _rewrite_x86(upload: Callable[[str, Path], str], tmp_path: Path, seed: int = 11) -> None:
    path = samples.write_compiled_model(tmp_path / f"x86-{seed}.tar.gz", seed=seed)
    upload("neo/x86/model.tar.gz", path)


def test_pinning_the_resolved_version_and_unpinning_only_update_state(
    provider: Provider, news: dict[str, Any]
) -> None:
    id_, inputs, outs = up(provider, _omitted(news))
    assert {v["component_version"] for v in outs["versions"].values()} == {"1.0.0"}
    pinned, failures = provider.check(inputs, {**news, "component_version": "1.0.0"})
    assert failures == []
    assert pinned["versions"] == inputs["versions"]
    diff = provider.diff(id_, outs, pinned)
    assert (diff.changes, list(diff.replaces)) == (provider_pb2.DiffResponse.DIFF_SOME, [])
    pinned_outs = provider.update(id_, outs, pinned)
    assert pinned_outs["component_version"] == "1.0.0"
    assert pinned_outs["components"] == outs["components"]
    unpinned, failures = provider.check(pinned, _omitted(news))
    assert failures == []
    diff = provider.diff(id_, pinned_outs, unpinned)
    assert (diff.changes, list(diff.replaces)) == (provider_pb2.DiffResponse.DIFF_SOME, [])
    # The state holds the program again: unpinned, nothing else to change.
    unpinned_outs = provider.update(id_, pinned_outs, unpinned)
    assert unpinned_outs["component_version"] == ""
    again, _ = provider.check(unpinned, _omitted(news))
    assert provider.diff(id_, unpinned_outs, again).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_one_target_change_publishes_that_target_only_and_keeps_the_other(
    provider: Provider,
    ep: LocalEndpoint,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
    gg: Any,
    s3: Any,
) -> None:
    old_id, old_inputs, old = up(provider, _omitted(news))
    _rewrite_x86(upload, tmp_path)
    checked, failures = provider.check(old_inputs, _omitted(news))
    assert failures == []
    # Known at preview: the changed target's next version, the other's entry untouched.
    assert checked["versions"]["x86_64-cpu"]["component_version"] == "2.0.0"
    assert checked["versions"]["jetson-xavier"] == old_inputs["versions"]["jetson-xavier"]
    assert list(provider.diff(old_id, old, checked).replaces) == ["versions"]

    ep.clear_request_log()
    _new_id, new = provider.create(checked)
    read = [r.path for r in ep.request_log() if r.operation == "GetObject"]
    assert not any("neo/jx" in path for path in read)  # the unchanged target is not repackaged
    assert new["components"]["jetson-xavier"] == {**old["components"]["jetson-xavier"]}
    assert new["components"]["x86_64-cpu"]["component_version"] == "2.0.0"
    assert published_versions(gg) == [
        "model-defects-jetson-xavier@1.0.0",
        "model-defects-x86-64-cpu@1.0.0",
        "model-defects-x86-64-cpu@2.0.0",
    ]
    # The engine deletes the predecessor last: its unchanged version stays with the successor.
    provider.delete(old_id, old)
    assert published_versions(gg) == [
        "model-defects-jetson-xavier@1.0.0",
        "model-defects-x86-64-cpu@2.0.0",
    ]
    assert len(artifact_keys(s3)) == 2
    state = gg.describe_component(arn=new["components"]["jetson-xavier"]["arn"])["status"]
    assert state["componentState"] == "DEPLOYABLE"


def test_a_replacement_that_keeps_every_version_deletes_nothing(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    """A replacement with the same content (here: another owner after a rename)."""
    old_id, _inputs, old = up(provider, news)
    _new_id, _, new = up(provider, {**news, "owner": "pulumi-dda/test/renamed"})
    assert new["versions"] == old["versions"]
    provider.delete(old_id, old)
    assert len(published_versions(gg)) == 2
    assert len(artifact_keys(s3)) == 2


def test_a_deployment_made_outside_the_stack_protects_its_version(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    id_, _, outs = up(provider, news)
    group = ep.client("iot").create_thing_group(thingGroupName="line-9")["thingGroupArn"]
    deployment = gg.create_deployment(
        targetArn=group,
        components={"model-defects-x86-64-cpu": {"componentVersion": "1.0.0"}},
    )["deploymentId"]
    provider.delete(id_, outs)
    assert published_versions(gg) == ["model-defects-x86-64-cpu@1.0.0"]
    assert artifact_keys(s3) == [outs["components"]["x86_64-cpu"]["artifact_uri"].split("/", 3)[3]]
    assert f"kept: deployment {deployment} of {group} uses it" in provider.stderr()


def test_taking_over_a_version_still_being_created_waits_for_deployable(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], gg: Any
) -> None:
    ep.set_state_delay(1.0)
    inputs, _ = provider.check({}, news)
    first: dict[str, Any] = {}
    crashed = threading.Thread(target=lambda: first.update(outs=provider.create(inputs)[1]))
    crashed.start()
    try:
        while len(published_versions(gg)) < 2:
            threading.Event().wait(0.05)
        _id, second = provider.create(inputs)  # the retry of an up whose first try was lost
    finally:
        crashed.join()
    for component in second["components"].values():
        status = gg.describe_component(arn=component["arn"])["status"]["componentState"]
        assert status == "DEPLOYABLE"
        assert component["adopted"] is False
    assert second["components"] == first["outs"]["components"]


def test_a_failed_version_is_refused_skipped_and_reported_by_refresh(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], gg: Any
) -> None:
    id_, inputs, outs = up(provider, news)
    arn = outs["components"]["x86_64-cpu"]["arn"]
    ep.force_failed(arn, "artifact is corrupt")
    # Refresh treats it like a vanished version, so the next up repairs it.
    assert provider.read(id_, outs)[0] == ""
    # Given version: one line at preview saying to bump it.
    _, failures = provider.check({}, news)
    assert failures[0][0] == "component_version"
    assert f"{arn} has this content but is FAILED" in failures[0][1]
    assert "other content" not in failures[0][1]
    assert "bump component_version to 2.0.0" in failures[0][1]
    # Omitted version: the failed number is skipped.
    checked, failures = provider.check({}, _omitted(news))
    assert failures == []
    assert checked["versions"]["x86_64-cpu"]["component_version"] == "2.0.0"
    assert checked["versions"]["jetson-xavier"]["component_version"] == "1.0.0"
    # Checked before it failed, created after: create refuses it, naming the ARN and state.
    with pytest.raises(ProviderError) as info:
        provider.create(inputs)
    assert f"waiting for Greengrass component ({arn}) to become DEPLOYABLE: FAILED" in str(
        info.value
    )


def test_deleted_version_numbers_under_a_service_that_refuses_recreation(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], gg: Any
) -> None:
    ep.configure(allow_recreate_deleted_versions=False)
    id_, _, outs = up(provider, _omitted(news))
    provider.delete(id_, outs)
    # Omitted: the refused number is skipped at create, and the next preview is still empty.
    id_, inputs, outs = up(provider, _omitted(news))
    assert {v["component_version"] for v in outs["versions"].values()} == {"2.0.0"}
    again, _ = provider.check(inputs, _omitted(news))
    assert provider.diff(id_, outs, again).changes == provider_pb2.DiffResponse.DIFF_NONE
    provider.delete(id_, outs)
    # Given: one clear line saying to bump it.
    up(provider, {**news, "component_version": "3.0.0"})
    inputs, _ = provider.check({}, {**news, "component_version": "1.0.0"})
    with pytest.raises(ProviderError) as info:
        provider.create(inputs)
    assert "was deleted and the service refuses to create it again" in str(info.value)
    assert "bump component_version to 2.0.0" in str(info.value)


def test_recreating_after_out_of_band_deletion(
    provider: Provider, news: dict[str, Any], gg: Any
) -> None:
    id_, _, outs = up(provider, news)
    gg.delete_component(arn=f"{X86_ARN}:versions:1.0.0")
    assert provider.read(id_, outs)[0] == ""
    _id, _, again = up(provider, news)  # the engine creates it again after the refresh
    assert again["versions"] == outs["versions"]
    assert published_versions(gg) == [
        "model-defects-jetson-xavier@1.0.0",
        "model-defects-x86-64-cpu@1.0.0",
    ]


def test_a_crash_then_a_model_change_then_destroy_leaves_nothing(
    provider: Provider,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
    gg: Any,
    s3: Any,
) -> None:
    up(provider, _omitted(news))  # state lost: the engine never saw this create finish
    _rewrite_x86(upload, tmp_path)
    id_, _, outs = up(provider, _omitted(news))
    assert outs["versions"]["x86_64-cpu"]["component_version"] == "2.0.0"
    # The up after the crash ends with one version per target: the crashed one is swept.
    assert published_versions(gg) == [
        "model-defects-jetson-xavier@1.0.0",
        "model-defects-x86-64-cpu@2.0.0",
    ]
    assert len(artifact_keys(s3)) == 2
    provider.delete(id_, outs)
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


def test_an_exact_s3_version_is_a_source(
    provider: Provider, news: dict[str, Any], s3: Any, tmp_path: Path
) -> None:
    s3.put_bucket_versioning(Bucket=MODELS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = samples.write_compiled_model(tmp_path / "v1.tar.gz", seed=21)
    s3.upload_file(str(first), MODELS_BUCKET, "neo/pinned/model.tar.gz")
    version = s3.head_object(Bucket=MODELS_BUCKET, Key="neo/pinned/model.tar.gz")["VersionId"]
    pinned = f"s3://{MODELS_BUCKET}/neo/pinned/model.tar.gz?versionId={version}"
    source = {**news, "compiled_models": {"x86_64-cpu": pinned}}
    id_, inputs, outs = up(provider, source)
    identity = inputs["__source_identities"]["compiled_models.x86_64-cpu"]
    assert identity.endswith(f";version:{version}")
    # Someone overwrites the key: the pinned source is unaffected.
    second = samples.write_compiled_model(tmp_path / "v2.tar.gz", seed=22)
    s3.upload_file(str(second), MODELS_BUCKET, "neo/pinned/model.tar.gz")
    again, failures = provider.check(inputs, source)
    assert failures == []
    assert provider.diff(id_, outs, again).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_the_trained_model_is_read_once_per_up_and_not_when_unchanged(
    provider: Provider,
    ep: LocalEndpoint,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
) -> None:
    def trained_reads() -> int:
        log = ep.request_log()
        return sum(1 for r in log if r.operation == "GetObject" and "train/" in r.path)

    ep.clear_request_log()
    _id, inputs, _outs = up(provider, news)
    assert trained_reads() == 1  # at check; create packages from the manifest check recorded
    ep.clear_request_log()
    provider.check(inputs, news)
    assert trained_reads() == 0
    retrained = samples.write_trained_model(
        tmp_path / "t2.tar.gz", config={"dataset": {"image_width": 320, "image_height": 240}}
    )
    upload("train/model.tar.gz", retrained)
    ep.clear_request_log()
    checked, failures = provider.check(inputs, {**news, "component_version": "2.0.0"})
    assert failures == []
    provider.create(checked)
    assert trained_reads() == 1
