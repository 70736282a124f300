"""Every bad input is rejected at check — the preview — with one line naming the input.

Each case goes through Pulumi's own dynamic-provider server, as the engine sends it (numbers
arrive as floats), against the local endpoint, and must leave nothing behind.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from plugin_harness import PluginProviderProcess
from provider_process import ARTIFACT_BUCKET, MODELS_BUCKET, ProviderError

from pulumi_dda import samples
from pulumi_dda.inputs import MAX_USER_TAGS

ABSENT = f"s3://{MODELS_BUCKET}/absent.tar.gz"
TRAINED = f"s3://{MODELS_BUCKET}/train/model.tar.gz"
WEST_BUCKET = "west-artifacts"
JUNK_KEY = "junk/not-a-tar.tar.gz"

# (change to the valid inputs, the input the failure must name, a fragment of its reason)
BAD_INPUTS: list[tuple[dict[str, Any], str, str]] = [
    ({"component_name": "defects"}, "component_name", "must start with 'model-'"),
    ({"component_name": 5}, "component_name", "must be a string"),
    ({"component_name": ""}, "component_name", "is required"),
    ({"component_name": "model-" + "x" * 130}, "component_name", "the limit is 128"),
    ({"component_name": "model-a b"}, "component_name", "may contain only"),
    ({"component_name": "model-" + "x" * 115}, "component_name", "component name for target"),
    ({"component_version": "1.0.1"}, "component_version", "must be N.0.0"),
    ({"component_version": "0.0.0"}, "component_version", "must be N.0.0"),
    ({"component_version": 1}, "component_version", "quote it: '1.0.0'"),
    ({"component_version": "v1"}, "component_version", "must be N.0.0"),
    ({"component_version": "1.00.00"}, "component_version", "must be N.0.0"),
    ({"component_version": True}, "component_version", "must be a string"),
    ({"trained_model_uri": ""}, "trained_model_uri", "is required"),
    ({"trained_model_uri": 3}, "trained_model_uri", "must be a string"),
    ({"trained_model_uri": ABSENT}, "trained_model_uri", "absent.tar.gz"),
    ({"trained_model_uri": "s3://"}, "trained_model_uri", "s3://"),
    ({"trained_model_uri": "/no/such/model.tar.gz"}, "trained_model_uri", "no such file"),
    ({"trained_model_uri": TRAINED + "?versionId="}, "trained_model_uri", "versionId"),
    ({"trained_model_uri": TRAINED + "?acl=1"}, "trained_model_uri", "acl"),
    ({"trained_model_uri": f"s3://{MODELS_BUCKET}/{JUNK_KEY}"}, "trained_model_uri", "tar"),
    ({"compiled_models": {}}, "compiled_models", "is required"),
    ({"compiled_models": "s3://ml-models/x.tar.gz"}, "compiled_models", "must be a mapping"),
    ({"compiled_models": {"tpu": ABSENT}}, "compiled_models", "unknown compilation target"),
    ({"compiled_models": {"x86_64-cpu": 7}}, "compiled_models.x86_64-cpu", "s3:// URI"),
    ({"compiled_models": {"x86_64-cpu": ""}}, "compiled_models.x86_64-cpu", "s3:// URI"),
    ({"compiled_models": {"x86_64-cpu": ["a"]}}, "compiled_models.x86_64-cpu", "s3:// URI"),
    ({"compiled_models": {"x86_64-cpu": ABSENT}}, "compiled_models.x86_64-cpu", "absent"),
    ({"compiled_models": {"x86_64-cpu": "/no/such"}}, "compiled_models.x86_64-cpu", "no such"),
    (  # two sources missing, looked up at once: the first named, as when looked up in turn
        {"trained_model_uri": ABSENT, "compiled_models": {"x86_64-cpu": ABSENT}},
        "trained_model_uri",
        "absent.tar.gz",
    ),
    ({"artifact_bucket": "Not_A_Bucket"}, "artifact_bucket", "not a valid S3 bucket name"),
    ({"artifact_bucket": ""}, "artifact_bucket", "is required"),
    ({"artifact_bucket": 42}, "artifact_bucket", "must be a string"),
    ({"artifact_bucket": "missing-bucket"}, "artifact_bucket", "does not exist"),
    ({"artifact_bucket": WEST_BUCKET}, "artifact_bucket", "is in us-west-2"),
    ({"artifact_prefix": "no-slash"}, "artifact_prefix", "ending in '/'"),
    ({"artifact_prefix": "/abs/"}, "artifact_prefix", "leading '/'"),
    ({"artifact_prefix": "../"}, "artifact_prefix", "'..'"),
    ({"artifact_prefix": "a//b/"}, "artifact_prefix", "empty segments"),
    ({"artifact_prefix": "a/./"}, "artifact_prefix", "'.'"),
    ({"artifact_prefix": 1}, "artifact_prefix", "must be a string"),
    ({"friendly_name": "x" * 20_000}, "friendly_name", "over the 16000"),
    ({"friendly_name": 12}, "friendly_name", "must be a string"),
    ({"target_suffix": False}, "target_suffix", "exactly one compiled model"),
    ({"target_suffix": "yes"}, "target_suffix", "true or false"),
    ({"tags": "team=vision"}, "tags", "mapping of string to string"),
    ({"tags": {"team": 1}}, "tags", "tags.team must be a string"),
    ({"tags": {"k" * 129: "v"}}, "tags", "over 128 characters"),
    ({"tags": {"team": "v" * 257}}, "tags", "over 256 characters"),
    ({"tags": {"aws:team": "x"}}, "tags", "reserved prefix"),
    ({"tags": {"pulumi-dda:user:abc": "x"}}, "tags", "reserved prefix"),
    ({"tags": {f"t{i}": "v" for i in range(MAX_USER_TAGS + 1)}}, "tags", "at most"),
    ({"role_arn": "arn:aws:iam::123456789012:user/alice"}, "role_arn", "not an IAM role"),
    ({"role_arn": "not-an-arn"}, "role_arn", "not an IAM role"),
    ({"role_arn": 5}, "role_arn", "must be a string"),
    ({"region": "mars-1"}, "region", "not an AWS region name"),
    ({"region": 3}, "region", "must be a string"),
    ({"relax_device_checks": "no"}, "relax_device_checks", "true or false"),
    ({"wait_timeout_seconds": "abc"}, "wait_timeout_seconds", "number of seconds"),
    ({"wait_timeout_seconds": -5}, "wait_timeout_seconds", "must be positive"),
    ({"wait_timeout_seconds": True}, "wait_timeout_seconds", "number of seconds"),
    ({"archive_limits": 5}, "archive_limits", "must be a mapping"),
    ({"archive_limits": {"max_members": 0}}, "archive_limits", "positive whole number"),
    ({"archive_limits": {"max_members": 2.5}}, "archive_limits", "whole number"),
    ({"archive_limits": {"max_files": 3}}, "archive_limits", "unknown keys"),
    ({"archive_limits": {"max_compression_ratio": 0}}, "archive_limits", "positive whole number"),
    ({"archive_limits": {"max_members": float("inf")}}, "archive_limits", "positive whole number"),
    ({"archive_limits": {"max_members": 2}}, "trained_model_uri", "more than 2 members"),
    ({"archive_limits": {"max_total_bytes": 100}}, "trained_model_uri", "over the 100-byte cap"),
]


def _model_versions(gg: Any) -> list[str]:
    return [
        c["componentName"]
        for c in gg.list_components(scope="PRIVATE")["components"]
        if c["componentName"].startswith("model-")
    ]


def test_the_table_is_at_least_fifty_distinct_cases() -> None:
    assert len(BAD_INPUTS) >= 50
    assert len({repr(change) for change, _, _ in BAD_INPUTS}) == len(BAD_INPUTS)


@pytest.mark.parametrize(("change", "field", "fragment"), BAD_INPUTS)
def test_bad_input_is_one_line_at_check_naming_the_input(
    provider: PluginProviderProcess,
    news: dict[str, Any],
    s3: Any,
    gg: Any,
    tmp_path: Path,
    change: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    s3.create_bucket(
        Bucket=WEST_BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    s3.put_object(Bucket=MODELS_BUCKET, Key=JUNK_KEY, Body=b"this is not a tar archive")
    _inputs, failures = provider.check({}, {**news, **change})
    assert len(failures) == 1, failures
    prop, reason = failures[0]
    assert prop == field
    assert fragment in reason
    assert "\n" not in reason
    assert "Traceback" not in reason
    assert _model_versions(gg) == []
    assert s3.list_objects_v2(Bucket=ARTIFACT_BUCKET).get("KeyCount", 0) == 0


def test_a_missing_local_server_fails_at_check_saying_how_to_publish_it(
    provider: PluginProviderProcess, news: dict[str, Any], gg: Any
) -> None:
    arn = "arn:aws:greengrass:us-east-1:123456789012:components:aws.edgeml.dda.LocalServer.arm64"
    gg.delete_component(arn=f"{arn}:versions:1.0.0")
    _inputs, failures = provider.check({}, news)
    assert failures == [
        (
            "compiled_models",
            "compiled_models: jetson-xavier needs DDA's aws.edgeml.dda.LocalServer.arm64 (a "
            "version ^1.0.0) in account 123456789012 region us-east-1, and it is not published "
            "there: publish it from the DDA repository first (on the local endpoint: pulumi-dda "
            "local --seed-local-server)",
        )
    ]


# Hostile archives: built here, uploaded to the local S3, refused in one line leaving nothing.
MiB = 1024 * 1024
Member = tuple[tarfile.TarInfo, bytes]


def _member(name: str, data: bytes = b"payload", **pax: str) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.pax_headers = pax
    return info, data


def _tar_gz(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _trained(extra: Member) -> bytes:
    export = {"model_graph": samples.SAMPLE_MODEL_GRAPH, "input_shape": [1, 3, 224, 224]}
    return _tar_gz(
        [
            _member("config.yaml", b"dataset: {image_width: 224, image_height: 224}\n"),
            _member("export_artifacts/manifest.json", json.dumps(export).encode()),
            _member("export_artifacts/model.pt", b"pytorch-weights"),
            extra,
        ]
    )


def _pax_header() -> Member:
    """16 MiB of PAX data in a few KB: tarfile would hold it all in memory before any cap."""
    return _member("weights.bin", comment="x" * (16 * MiB))


def _zeros() -> Member:
    """80 MiB of zeros in about 80 KB: a preview's CPU in proportion to the uncompressed size."""
    return _member("zeros.bin", bytes(80 * MiB))


def _long_name() -> Member:
    return _member("notes/" + "n" * 70_000)


def _long_package_path() -> Member:
    return _member("w/" + "n" * (65_535 - len("classification/w/") + 1))


# (what makes the hostile member, archive_limits, a fragment of the one-line reason)
HOSTILE_TRAINED: dict[str, tuple[Callable[[], Member], dict[str, int], str]] = {
    "PAX header over the header cap": (_pax_header, {"max_total_bytes": 1_000_000},
                                       "a PAX extended header of 16777"),
    "gzip of zeros": (_zeros, {}, "raise archive_limits.max_compression_ratio"),
    "name over 65,535 bytes": (_long_name, {}, "has a 70006-byte name, over the 65535-byte cap"),
}  # fmt: skip


def _nothing_left(gg: Any, s3: Any) -> None:
    assert _model_versions(gg) == []
    assert s3.list_objects_v2(Bucket=ARTIFACT_BUCKET).get("KeyCount", 0) == 0


@pytest.mark.parametrize("case", sorted(HOSTILE_TRAINED))
def test_a_hostile_trained_model_fails_at_check_in_one_line(
    provider: PluginProviderProcess, news: dict[str, Any], s3: Any, gg: Any, case: str
) -> None:
    extra, limits, fragment = HOSTILE_TRAINED[case]
    s3.put_object(Bucket=MODELS_BUCKET, Key="train/hostile.tar.gz", Body=_trained(extra()))
    uri = f"s3://{MODELS_BUCKET}/train/hostile.tar.gz"
    _inputs, failures = provider.check(
        {}, {**news, "trained_model_uri": uri, "archive_limits": limits}
    )
    assert len(failures) == 1, failures
    prop, reason = failures[0]
    assert prop == "trained_model_uri"
    assert reason.startswith(f"{uri}: ")
    assert fragment in reason
    assert "\n" not in reason
    assert len(reason) < 400
    _nothing_left(gg, s3)


HOSTILE_COMPILED: dict[str, tuple[Callable[[], Member], dict[str, int], str]] = {
    "PAX header over the header cap": (_pax_header, {"max_total_bytes": 1_000_000},
                                       "a PAX extended header of 16777"),
    "gzip of zeros": (_zeros, {}, "raise archive_limits.max_compression_ratio"),
    "package path over 65,535 bytes": (_long_package_path, {},
        "would be a 65536-byte path in the package, over the 65535-byte limit of a ZIP entry name",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE_COMPILED))
def test_a_hostile_compiled_model_fails_at_create_in_one_line(
    provider: PluginProviderProcess, news: dict[str, Any], s3: Any, gg: Any, case: str
) -> None:
    """Compiled archives are only HEADed at check; their content is refused when packaging."""
    extra, limits, fragment = HOSTILE_COMPILED[case]
    s3.put_object(Bucket=MODELS_BUCKET, Key="neo/hostile.tar.gz", Body=_tar_gz([extra()]))
    uri = f"s3://{MODELS_BUCKET}/neo/hostile.tar.gz"
    compiled = {**news["compiled_models"], "x86_64-cpu": uri}
    inputs, failures = provider.check(
        {}, {**news, "compiled_models": compiled, "archive_limits": limits}
    )
    assert failures == []
    with pytest.raises(ProviderError) as info:
        provider.create(inputs)
    message = str(info.value)
    assert message.startswith(f"target x86_64-cpu: packaging: {uri}: ")
    assert fragment in message
    assert "\n" not in message
    assert "Traceback" not in message
    assert len(message) < 400
    _nothing_left(gg, s3)
