"""DdaModelComponent's lifecycle through the real dynamic-provider gRPC server and local AWS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lifecycle import artifact_keys, published_versions, up
from plugin_harness import PluginProviderProcess
from provider_process import OWNER, ProviderError
from pulumi.output import Unknown
from pulumi.runtime.proto import provider_pb2
from pulumi.runtime.rpc import UNKNOWN

from pulumi_dda import ownership, samples
from pulumi_dda._host import from_state
from pulumi_dda.greengrass import user_tags
from pulumi_dda.local import LocalEndpoint, local_server
from pulumi_dda.model_component import STATE_ONLY, DdaModelComponentProvider
from pulumi_dda.ownership import FINGERPRINT_TAG, OWNER_TAG, USER_TAG_PREFIX

Provider = PluginProviderProcess


def test_create_then_unchanged_check_and_diff_move_no_bytes(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    id_, inputs, outs = up(provider, news)
    assert id_ == "model-defects@1.0.0"
    assert set(inputs["__source_identities"]) == {
        "trained_model_uri", "compiled_models.x86_64-cpu", "compiled_models.jetson-xavier"
    }  # fmt: skip
    assert outs["model_name"] == "classification"
    assert set(outs["__manifest"]) == {"model_graph", "compilable_models", "dataset"}
    x86 = outs["components"]["x86_64-cpu"]
    assert x86["component_name"] == "model-defects-x86-64-cpu"
    assert x86["arn"] == (
        "arn:aws:greengrass:us-east-1:123456789012:components:model-defects-x86-64-cpu"
        ":versions:1.0.0"
    )
    assert x86["adopted"] is False
    assert gg.describe_component(arn=x86["arn"])["status"]["componentState"] == "DEPLOYABLE"
    assert published_versions(gg) == [
        "model-defects-jetson-xavier@1.0.0",
        "model-defects-x86-64-cpu@1.0.0",
    ]
    assert len(artifact_keys(s3)) == 2
    # Bookkeeping is kept as __<key> (the engine shows none of it in a preview).
    assert not set(STATE_ONLY) & (set(inputs) | set(outs))
    assert {f"__{k}" for k in ("owner", "resources", "checked_versions")} <= set(outs)
    assert inputs["plan"] == {
        "x86_64-cpu": "new component → 1.0.0",
        "jetson-xavier": "new component → 1.0.0",
    }
    assert outs["plan"] == inputs["plan"]

    ep.clear_request_log()
    again, failures = provider.check(inputs, news)
    assert again["plan"] == {"x86_64-cpu": "unchanged", "jetson-xavier": "unchanged"}
    diff = provider.diff(id_, outs, again)
    assert failures == []
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
    assert list(diff.replaces) == []
    log = ep.request_log()
    assert {r.operation for r in log} == {"HeadObject"}
    assert sum(r.bytes_out for r in log) == 0
    assert sum(r.bytes_in for r in log) == 0


def test_progress_of_a_create_is_reported_on_stderr(
    provider: Provider, news: dict[str, Any]
) -> None:
    up(provider, news)
    text = provider.stderr()
    assert "pulumi-dda: [x86_64-cpu] uploaded s3://edge-artifacts/model_artifacts/" in text
    assert "] created arn:aws:greengrass:us-east-1:123456789012:components:" in text


def test_tags_only_change_updates_in_place_and_read_sees_drift(
    provider: Provider, news: dict[str, Any], gg: Any
) -> None:
    id_, inputs, outs = up(provider, news)
    arn = outs["components"]["x86_64-cpu"]["arn"]
    changed, _ = provider.check(inputs, {**news, "tags": {"team": "ml", "env": "dev"}})
    diff = provider.diff(id_, outs, changed)
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == []
    updated = provider.update(id_, outs, changed)
    assert updated["tags"] == {"team": "ml", "env": "dev"}
    assert updated["components"] == outs["components"]
    tags = gg.list_tags_for_resource(resourceArn=arn)["tags"]
    assert user_tags(tags) == {"team": "ml", "env": "dev"}
    assert tags[OWNER_TAG] == OWNER
    assert tags[FINGERPRINT_TAG] == inputs["__fingerprints"]["x86_64-cpu"]
    assert [v for k, v in tags.items() if k.startswith(USER_TAG_PREFIX)] == [OWNER]

    gg.tag_resource(resourceArn=arn, tags={"team": "someone-else"})
    read_id, read_outs, read_inputs = provider.read(id_, updated)
    assert read_id == id_
    assert read_outs["tags"] == {"team": "someone-else", "env": "dev"}
    assert read_inputs["tags"] == {"team": "someone-else", "env": "dev"}
    assert read_inputs["component_version"] == "1.0.0"


def test_rewritten_model_needs_a_version_bump_then_replaces(
    provider: Provider,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
) -> None:
    id_, inputs, outs = up(provider, news)
    upload("neo/x86/model.tar.gz", samples.write_compiled_model(tmp_path / "n.tar.gz", seed=9))
    _, failures = provider.check(inputs, news)
    assert len(failures) == 1
    prop, reason = failures[0]
    assert prop == "component_version"
    assert "bump component_version to 2.0.0" in reason
    assert "compiled_models.x86_64-cpu changed" in reason
    bumped, failures = provider.check(inputs, {**news, "component_version": "2.0.0"})
    assert failures == []
    assert (
        bumped["__source_identities"]["compiled_models.x86_64-cpu"]
        != inputs["__source_identities"]["compiled_models.x86_64-cpu"]
    )
    assert (
        bumped["__source_identities"]["compiled_models.jetson-xavier"]
        == inputs["__source_identities"]["compiled_models.jetson-xavier"]
    )
    new_x86 = bumped["__source_identities"]["compiled_models.x86_64-cpu"]
    assert bumped["plan"] == {
        "x86_64-cpu": f"new compiled model ({new_x86[:17]}) → 2.0.0",
        "jetson-xavier": "component_version changed → 2.0.0",
    }
    diff = provider.diff(id_, outs, bumped)
    assert list(diff.replaces) == ["versions"]
    assert diff.deleteBeforeReplace is False


def test_plan_names_the_changed_manifest_fields(
    provider: Provider,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
) -> None:
    omitted = {**news, "component_version": ""}
    _id, inputs, _outs = up(provider, omitted)
    retrained = samples.write_trained_model(
        tmp_path / "t.tar.gz", config={"dataset": {"image_width": 256, "image_height": 224}}
    )
    upload("train/model.tar.gz", retrained)
    changed, failures = provider.check(inputs, omitted)
    assert failures == []
    assert changed["plan"] == {
        target: "manifest dataset.image_width 256 (was 224) → 2.0.0"
        for target in ("x86_64-cpu", "jetson-xavier")
    }


def test_omitted_version_takes_the_next_free_major(
    provider: Provider, news: dict[str, Any], gg: Any
) -> None:
    other = {**news, "component_version": "4.0.0", "owner": "other/stack/model"}
    up(provider, {**other, "friendly_name": "Other content"})
    _id, inputs, outs = up(provider, {**news, "component_version": ""})
    assert inputs["versions"]["jetson-xavier"]["component_version"] == "5.0.0"  # at preview
    assert outs["versions"]["jetson-xavier"]["component_version"] == "5.0.0"
    assert outs["components"]["jetson-xavier"]["component_version"] == "5.0.0"
    assert "model-defects-jetson-xavier@5.0.0" in published_versions(gg)


def test_omitted_version_adopts_an_identical_newest_version_of_another_stack(
    provider: Provider, news: dict[str, Any]
) -> None:
    up(provider, {**news, "component_version": "4.0.0", "owner": "other/stack/model"})
    _id, inputs, outs = up(provider, {**news, "component_version": ""})
    assert {v["component_version"] for v in inputs["versions"].values()} == {"4.0.0"}
    assert {c["adopted"] for c in outs["components"].values()} == {True}


def test_promotion_adopts_and_the_last_stack_to_go_cleans_up(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    dev_id, _, dev = up(provider, {**news, "owner": "pulumi-dda/dev/model"})
    prod_id, _, prod = up(provider, {**news, "owner": "pulumi-dda/prod/model"})
    assert {c["adopted"] for c in prod["components"].values()} == {True}
    assert prod["components"]["x86_64-cpu"]["digest"] == dev["components"]["x86_64-cpu"]["digest"]
    assert prod["components"]["x86_64-cpu"]["arn"] == dev["components"]["x86_64-cpu"]["arn"]
    provider.delete(dev_id, dev)
    assert len(published_versions(gg)) == 2  # prod still uses them
    assert len(artifact_keys(s3)) == 2
    arn = prod["components"]["x86_64-cpu"]["arn"]
    assert gg.describe_component(arn=arn)["status"]["componentState"] == "DEPLOYABLE"
    provider.delete(prod_id, prod)
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


def test_destroying_the_adopter_keeps_the_creator_working(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    _dev_id, _, dev = up(provider, {**news, "owner": "pulumi-dda/dev/model"})
    prod_id, _, prod = up(provider, {**news, "owner": "pulumi-dda/prod/model"})
    provider.delete(prod_id, prod)
    assert len(published_versions(gg)) == 2
    assert len(artifact_keys(s3)) == 2
    arn = dev["components"]["x86_64-cpu"]["arn"]
    assert gg.describe_component(arn=arn)["status"]["componentState"] == "DEPLOYABLE"


def test_a_version_not_made_by_pulumi_dda_is_never_adopted_nor_deleted(
    provider: Provider, news: dict[str, Any], gg: Any
) -> None:
    id_, _, made = up(provider, news)
    arn = made["components"]["x86_64-cpu"]["arn"]
    gg.untag_resource(
        resourceArn=arn, tagKeys=list(gg.list_tags_for_resource(resourceArn=arn)["tags"])
    )
    _inputs, failures = provider.check({}, {**news, "owner": "pulumi-dda/prod/model"})
    assert failures[0][0] == "component_version"
    assert f"{arn} exists, not made by pulumi-dda" in failures[0][1]
    provider.delete(id_, made)
    assert published_versions(gg) == ["model-defects-x86-64-cpu@1.0.0"]


def test_existing_version_with_other_content_is_refused(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    other = {**news, "owner": "x/y/z", "friendly_name": "Other content"}
    checked_before, failures = provider.check({}, other)
    assert failures == []
    up(provider, {**news, "owner": "a/b/c"})
    # Known at preview: the given version exists with other content.
    _inputs, failures = provider.check({}, other)
    assert failures[0][0] == "component_version"
    assert "made by a/b/c" in failures[0][1]
    assert "bump component_version to 2.0.0" in failures[0][1]
    # Created between this stack's check and its create: refused at create, nothing left.
    keys_before = artifact_keys(s3)
    with pytest.raises(ProviderError, match="already exists with other content"):
        provider.create(checked_before)
    assert artifact_keys(s3) == keys_before
    assert len(published_versions(gg)) == 2
    x86 = "arn:aws:greengrass:us-east-1:123456789012:components:model-defects-x86-64-cpu"
    tags = gg.list_tags_for_resource(resourceArn=f"{x86}:versions:1.0.0")["tags"]
    assert [v for k, v in tags.items() if k.startswith(USER_TAG_PREFIX)] == ["a/b/c"]


def test_second_create_after_a_crash_reclaims_and_destroy_cleans_up(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    up(provider, news)  # state lost: the engine never saw this create finish
    id_, _, outs = up(provider, news)
    assert {c["adopted"] for c in outs["components"].values()} == {False}
    provider.delete(id_, outs)
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


def test_delete_is_idempotent_and_removes_everything(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    id_, _, outs = up(provider, news)
    provider.delete(id_, outs)
    provider.delete(id_, outs)
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


def test_out_of_band_deletion_drops_the_resource_on_read(
    provider: Provider, news: dict[str, Any], gg: Any
) -> None:
    id_, _, outs = up(provider, news)
    gg.delete_component(arn=outs["components"]["jetson-xavier"]["arn"])
    read_id, _outs, _inputs = provider.read(id_, outs)
    assert read_id == ""


def test_a_throttling_storm_still_succeeds(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any]
) -> None:
    ep.inject_fault("CreateComponentVersion", "ThrottlingException", count=3)
    ep.inject_fault("DescribeComponent", "ThrottlingException", count=4)
    ep.inject_fault("PutObject", "InternalError", count=2, status=500, service="s3")
    _id, _, outs = up(provider, news)
    assert len(outs["components"]) == 2
    throttled = [r for r in ep.request_log() if r.injected_fault]
    assert len(throttled) == 9


def test_a_failed_component_leaves_nothing_behind(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    ep.set_state_delay(1.0)  # a wide window for the watcher thread, even on a loaded machine
    inputs, _ = provider.check({}, news)
    stop = threading.Event()

    def fail_first_component() -> None:
        while not stop.is_set():
            for item in gg.list_components(scope="PRIVATE")["components"]:
                if item["componentName"].endswith("jetson-xavier"):
                    ep.force_failed(item["latestVersion"]["arn"], "artifact is corrupt")
                    return
            time.sleep(0.02)

    watcher = threading.Thread(target=fail_first_component)
    watcher.start()
    try:
        with pytest.raises(ProviderError) as info:
            provider.create(inputs)
    finally:
        stop.set()
        watcher.join()
    message = str(info.value)
    assert message.startswith("target jetson-xavier: creating the component version:")
    assert "Traceback" not in message
    assert "\n" not in message
    assert "FAILED" in message
    assert "artifact is corrupt" in message
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


BAD_INPUTS = [
    ({"component_name": "defects"}, "component_name"),
    ({"component_version": "1.0.1"}, "component_version"),
    ({"compiled_models": {"tpu": "s3://ml-models/x.tar.gz"}}, "compiled_models"),
    ({"artifact_bucket": "Not_A_Bucket"}, "artifact_bucket"),
    ({"artifact_prefix": "no-slash"}, "artifact_prefix"),
    ({"target_suffix": False}, "target_suffix"),
    ({"trained_model_uri": "s3://ml-models/absent.tar.gz"}, "trained_model_uri"),
    (
        {"compiled_models": {"x86_64-cpu": "s3://ml-models/absent.tar.gz"}},
        "compiled_models.x86_64-cpu",
    ),
]


@pytest.mark.parametrize(("change", "prop"), BAD_INPUTS)
def test_bad_inputs_fail_at_check(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], change: dict[str, Any], prop: str
) -> None:
    _inputs, failures = provider.check({}, {**news, **change})
    assert len(failures) == 1
    assert failures[0][0] == prop
    value = next(iter(change.values()))
    shown = next(iter(value)) if isinstance(value, dict) else str(value)
    assert shown.replace("s3://", "") in failures[0][1] or prop in failures[0][1]


def test_bad_trained_model_fails_at_check_naming_the_field(
    provider: Provider, news: dict[str, Any], upload: Callable[[str, Path], str], tmp_path: Path
) -> None:
    bad = samples.write_trained_model(
        tmp_path / "bad.tar.gz",
        export_manifest={"model_graph": {"stages": [{"type": "c"}]}, "input_shape": [1, 3, 4, 4]},
    )
    uri = upload("train/bad.tar.gz", bad)
    _inputs, failures = provider.check({}, {**news, "trained_model_uri": uri})
    assert len(failures) == 1
    assert "model_graph.model_graph_type is missing" in failures[0][1]
    assert uri in failures[0][1]


def test_unknown_inputs_in_preview_are_passed_through(
    provider: Provider, news: dict[str, Any]
) -> None:
    inputs, failures = provider.check({}, {**news, "artifact_bucket": UNKNOWN})
    assert failures == []
    assert isinstance(inputs["__manifest"], Unknown)
    assert isinstance(inputs["__source_identities"], Unknown)


def test_a_hostile_compiled_archive_fails_create_and_leaves_nothing(
    provider: Provider,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
    gg: Any,
    s3: Any,
) -> None:
    import io
    import tarfile

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/evil")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    uri = upload("neo/evil/model.tar.gz", evil)
    inputs, failures = provider.check({}, {**news, "compiled_models": {
        **news["compiled_models"], "jetson-xavier": uri}})  # fmt: skip
    assert failures == []  # compiled archives are only HEADed at check: no download in preview
    with pytest.raises(ProviderError) as info_:
        provider.create(inputs)
    assert f"target jetson-xavier: packaging: {uri}: member '../../etc/cron.d/evil'" in str(
        info_.value
    )
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


def test_the_provider_is_pickled_by_reference_and_holds_no_clients() -> None:
    """Stacks not yet moved to the plugin hold this pickle in state; their delete unpickles it."""
    import base64
    import subprocess
    import sys

    from pulumi.dynamic.dynamic import serialize_provider

    serialized = serialize_provider(DdaModelComponentProvider())
    raw = base64.b64decode(serialized)
    assert b"pulumi_dda.model_component" in raw
    assert b"DdaModelComponentProvider" in raw
    assert len(raw) < 512  # by reference: no bytecode, no globals
    script = (
        "import base64, sys, dill; p = dill.loads(base64.b64decode(sys.argv[1]));"
        "print(type(p).__module__, type(p).__name__, sorted(vars(p)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, serialized],
        check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert out == ["pulumi_dda.model_component", "DdaModelComponentProvider", "[]"]


def test_omitted_version_reclaims_its_own_identical_version_after_a_crash(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any, tmp_path: Path,
    upload: Callable[[str, Path], str],
) -> None:  # fmt: skip
    omitted = {**news, "component_version": ""}
    up(provider, omitted)  # state lost: the engine never saw this create finish
    id_, inputs, outs = up(provider, omitted)
    assert {v["component_version"] for v in outs["versions"].values()} == {"1.0.0"}
    assert {c["adopted"] for c in outs["components"].values()} == {False}
    assert published_versions(gg) == [
        "model-defects-jetson-xavier@1.0.0",
        "model-defects-x86-64-cpu@1.0.0",
    ]
    # New content for one target: that target takes the next major, the other keeps its own.
    upload("neo/x86/model.tar.gz", samples.write_compiled_model(tmp_path / "n.tar.gz", seed=5))
    checked, failures = provider.check(inputs, omitted)  # the replacement's check
    assert failures == []
    _new_id, replaced = provider.create(checked)
    assert replaced["versions"]["x86_64-cpu"]["component_version"] == "2.0.0"
    assert replaced["versions"]["jetson-xavier"]["component_version"] == "1.0.0"
    provider.delete(id_, outs)
    provider.delete(_new_id, replaced)
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


def test_the_engines_recheck_of_a_replacement_keeps_what_the_old_state_gave(
    provider: Provider,
    news: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
) -> None:
    """A diff that replaces is followed by Check with no old state (the engine recomputes
    defaults for the replacement); that re-check must give what the check before it gave."""
    omitted = {**news, "component_version": ""}
    id_, inputs, outs = up(provider, omitted)
    upload("neo/x86/model.tar.gz", samples.write_compiled_model(tmp_path / "n.tar.gz", seed=9))
    first, failures = provider.check(inputs, omitted)
    assert failures == []
    assert list(provider.diff(id_, outs, first).replaces) == ["versions"]
    again, failures = provider.check({}, omitted)
    assert failures == []
    assert again == first
    assert again["plan"]["jetson-xavier"] == "unchanged"  # its version stays
    assert again["__predecessor"] == ownership.instance_of(from_state(inputs, STATE_ONLY))
    # Without that diff, a check with no old state is a create's: nothing is carried over.
    fresh, _ = provider.check({}, omitted)
    assert fresh["plan"]["x86_64-cpu"] == "new component → 2.0.0"


def test_every_failed_target_has_its_own_line(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    inputs, _ = provider.check({}, news)
    ep.inject_fault("CreateComponentVersion", "AccessDeniedException", count=2, status=403)
    with pytest.raises(ProviderError) as info:
        provider.create(inputs)
    lines = str(info.value).strip().splitlines()
    assert "Traceback" not in str(info.value)
    for target in ("jetson-xavier", "x86_64-cpu"):
        assert [
            line for line in lines if line.startswith(f"target {target}: creating the component")
        ], lines
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


def test_a_trained_model_given_as_a_compiled_model_is_refused(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    mixed_up = {**news["compiled_models"], "jetson-xavier": news["trained_model_uri"]}
    inputs, failures = provider.check({}, {**news, "compiled_models": mixed_up})
    assert failures == []  # compiled archives are only HEADed at check
    with pytest.raises(ProviderError) as info:
        provider.create(inputs)
    assert "target jetson-xavier: packaging: " in str(info.value)
    assert "is a trained model's" in str(info.value)
    assert "Traceback" not in str(info.value)
    assert published_versions(gg) == []
    assert artifact_keys(s3) == []


GDK_BUCKET = "dda-gdk-bucket"
AMD64_SERVER = "aws.edgeml.dda.LocalServer.amd64"


def _publish_local_server(gg: Any, s3: Any, version: str, uris: list[str]) -> None:
    """A LocalServer.amd64 version whose recipe names ``uris`` (the s3:// ones uploaded)."""
    if GDK_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=GDK_BUCKET)
    for uri in uris:
        if uri.startswith(f"s3://{GDK_BUCKET}/"):
            s3.put_object(Bucket=GDK_BUCKET, Key=uri.split("/", 3)[3], Body=uri.encode())
    recipe = local_server.local_server_recipe("amd64", version)
    recipe["Manifests"][0]["Artifacts"] = [{"Uri": uri} for uri in uris]
    gg.create_component_version(inlineRecipe=json.dumps(recipe).encode())


def test_local_server_artifacts_are_the_newest_caret_1_recipes_known_at_check(
    provider: Provider, ep: LocalEndpoint, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    old = f"s3://{GDK_BUCKET}/{AMD64_SERVER}/1.9.0/server.zip"
    newest = [
        f"s3://{GDK_BUCKET}/{AMD64_SERVER}/1.10.0/server.zip",
        f"s3://{GDK_BUCKET}/{AMD64_SERVER}/1.10.0/runtime.tar.gz",
    ]
    _publish_local_server(gg, s3, "1.9.0", [old])
    _publish_local_server(gg, s3, "1.10.0", newest)  # newer than 1.9.0: semantic order
    _publish_local_server(gg, s3, "2.0.0", [f"s3://{GDK_BUCKET}/{AMD64_SERVER}/2.0.0/x.zip"])
    _id, inputs, outs = up(provider, news)
    expected = {"x86_64-cpu": sorted(newest), "jetson-xavier": []}  # the seeded arm64: none
    assert inputs["local_server_artifacts"] == expected
    assert outs["local_server_artifacts"] == expected

    # Kept while the versions stay: an unchanged check asks Greengrass nothing.
    ep.clear_request_log()
    again, failures = provider.check(inputs, news)
    assert failures == []
    assert again["local_server_artifacts"] == expected
    assert {r.operation for r in ep.request_log()} == {"HeadObject"}


def test_a_local_server_artifact_outside_s3_is_refused_at_check(
    provider: Provider, news: dict[str, Any], gg: Any, s3: Any
) -> None:
    docker = "docker:public.ecr.aws/dda/local-server:1.1.0"
    _publish_local_server(gg, s3, "1.1.0", [f"s3://{GDK_BUCKET}/ls/server.zip", docker])
    _inputs, failures = provider.check({}, news)
    assert failures == [
        (
            "compiled_models",
            f"compiled_models: x86_64-cpu needs DDA's {AMD64_SERVER} 1.1.0, whose recipe names "
            f"the artifact {docker}, which is not an s3:// URI: the device role can only be "
            "granted s3:GetObject on the LocalServer's artifacts; publish it with its artifacts "
            "in S3",
        )
    ]
