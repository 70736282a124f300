"""Sources named by SageMaker: a training job, a Neo compilation job per target, a Model
Registry package (a version, or a group's latest approved one), through the plugin against the
local endpoint (SageMaker served by moto; job states set with the endpoint's control, which
moto lacks).

Each name is resolved at check, shown (``resolved_sources``, the preview lines), refused in one
line naming the input when it cannot ship, and pinned in state: create reads what check
resolved, and a newly approved package version is a change at the next check.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lifecycle import up
from plugin_harness import PluginProviderProcess
from provider_process import MODELS_BUCKET
from pulumi.runtime.proto import provider_pb2

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.package import build_package
from pulumi_dda.sources import Identity

Provider = PluginProviderProcess
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
TRAINING_JOB = "defects-train-1"
X86_JOB = "defects-x86"
GROUP = "defects-jx"
TRAINED_AT = f"s3://{MODELS_BUCKET}/train/{TRAINING_JOB}/output/model.tar.gz"
X86_AT = f"s3://{MODELS_BUCKET}/neo/x86/model.tar.gz"
JX_AT = f"s3://{MODELS_BUCKET}/neo/jx/model.tar.gz"


def training_job(sm: Any, name: str, output_path: str) -> None:
    sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "dda-training", "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": output_path},
        ResourceConfig={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )


def compilation_job(sm: Any, name: str, output: str, **target: Any) -> None:
    """A Neo job writing ``output`` for ``TargetDevice=`` or ``TargetPlatform=``."""
    sm.create_compilation_job(
        CompilationJobName=name,
        RoleArn=ROLE,
        InputConfig={
            "S3Uri": TRAINED_AT,
            "DataInputConfig": '{"input": [1, 3, 224, 224]}',
            "Framework": "PYTORCH",
        },
        OutputConfig={"S3OutputLocation": output, **target},
        StoppingCondition={"MaxRuntimeInSeconds": 900},
    )


def model_package(sm: Any, group: str, data_url: str, status: str = "Approved") -> str:
    arn: str = sm.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": "dda-inference", "ModelDataUrl": data_url}],
            "SupportedContentTypes": ["application/x-image"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    return arn


@pytest.fixture
def sm(ep: LocalEndpoint) -> Any:
    return ep.client("sagemaker")


@pytest.fixture
def named(
    news: dict[str, Any], sm: Any, s3: Any, tmp_path: Path, upload: Callable[[str, Path], str]
) -> dict[str, Any]:
    """``news`` with every source named by SageMaker: the training job's output is the trained
    model, a Neo job for ``ml_c5`` made the x86 model, and the jetson model is the latest
    approved package of a group (the archives are ``news``'s, at the jobs' output keys)."""
    s3.copy_object(
        Bucket=MODELS_BUCKET,
        Key=TRAINED_AT.split("/", 3)[3],
        CopySource={"Bucket": MODELS_BUCKET, "Key": "train/model.tar.gz"},
    )
    training_job(sm, TRAINING_JOB, f"s3://{MODELS_BUCKET}/train")
    compilation_job(sm, X86_JOB, X86_AT, TargetDevice="ml_c5")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    model_package(sm, GROUP, JX_AT)
    return {
        **news,
        "trained_model_uri": f"sagemaker://training-job/{TRAINING_JOB}",
        "compiled_models": {
            "x86_64-cpu": f"sagemaker://compilation-job/{X86_JOB}",
            "jetson-xavier": f"sagemaker://model-package/{GROUP}:latest-approved",
        },
    }


def test_names_resolve_at_check_to_the_same_content_as_their_s3_uris(
    provider: Provider, news: dict[str, Any], named: dict[str, Any]
) -> None:
    checked, failures = provider.check({}, named)
    assert failures == []
    assert checked["resolved_sources"] == {
        "trained": f"training job {TRAINING_JOB} → {TRAINED_AT}",
        "x86_64-cpu": f"compilation job {X86_JOB} → {X86_AT}",
        "jetson-xavier": f"model package {GROUP}/1 → {JX_AT}",
    }
    identities = {k: Identity.parse(v) for k, v in checked["__source_identities"].items()}
    package_arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/1"
    assert identities["compiled_models.jetson-xavier"].via == f"model-package/{package_arn}"
    assert identities["compiled_models.jetson-xavier"].at == JX_AT
    # The same objects named by S3 URI: the same content, so the same component versions.
    by_uri, failures = provider.check({}, news)
    assert failures == []
    assert checked["__fingerprints"] == by_uri["__fingerprints"]
    assert by_uri["resolved_sources"] == {}

    _id, outs = provider.create(checked)
    assert outs["resolved_sources"] == checked["resolved_sources"]
    assert sorted(outs["components"]) == ["jetson-xavier", "x86_64-cpu"]
    assert outs["plan"] == {
        "x86_64-cpu": "new component → 1.0.0",
        "jetson-xavier": "new component → 1.0.0",
    }


def _one_failure(provider: Provider, news: dict[str, Any]) -> tuple[str, str]:
    _inputs, failures = provider.check({}, news)
    assert len(failures) == 1, failures
    field, reason = failures[0]
    assert "\n" not in reason
    return field, reason


@pytest.mark.parametrize(
    ("kind", "name", "status", "reason", "field", "expected"),
    [
        ("training-job", TRAINING_JOB, "Failed", "AlgorithmError: loss is NaN",
         "trained_model_uri", f"training job {TRAINING_JOB} is Failed (AlgorithmError: loss is "
         "NaN), not Completed"),
        ("training-job", TRAINING_JOB, "InProgress", "", "trained_model_uri",
         f"training job {TRAINING_JOB} is InProgress, not Completed"),
        ("compilation-job", X86_JOB, "FAILED", "ClientError: unsupported operator",
         "compiled_models.x86_64-cpu", f"compilation job {X86_JOB} is FAILED (ClientError: "
         "unsupported operator), not COMPLETED"),
        ("compilation-job", X86_JOB, "INPROGRESS", "", "compiled_models.x86_64-cpu",
         f"compilation job {X86_JOB} is INPROGRESS, not COMPLETED"),
    ],
)  # fmt: skip
def test_a_job_that_failed_or_still_runs_is_refused_at_check(
    provider: Provider,
    named: dict[str, Any],
    ep: LocalEndpoint,
    kind: str,
    name: str,
    status: str,
    reason: str,
    field: str,
    expected: str,
) -> None:
    ep.set_sagemaker_job_status(kind, name, status, reason)
    got_field, got_reason = _one_failure(provider, named)
    assert got_field == field
    assert expected in got_reason
    assert got_reason.startswith(f"{field} sagemaker://{kind}/{name}: ")


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_a_package_not_approved_is_refused_at_check(
    provider: Provider, named: dict[str, Any], sm: Any, status: str
) -> None:
    """Named by version: refused. By latest-approved: version 1 stays what it resolves to."""
    model_package(sm, GROUP, JX_AT, status)
    pinned = {**named, "compiled_models": {**named["compiled_models"]}}
    pinned["compiled_models"]["jetson-xavier"] = f"sagemaker://model-package/{GROUP}/2"
    field, reason = _one_failure(provider, pinned)
    assert field == "compiled_models.jetson-xavier"
    assert f"model package {GROUP}/2 is {status}, not Approved" in reason
    checked, failures = provider.check({}, named)
    assert failures == []
    assert checked["resolved_sources"]["jetson-xavier"] == f"model package {GROUP}/1 → {JX_AT}"


def test_a_group_without_an_approved_package_is_refused(
    provider: Provider, named: dict[str, Any], sm: Any
) -> None:
    sm.create_model_package_group(ModelPackageGroupName="defects-new")
    model_package(sm, "defects-new", JX_AT, "PendingManualApproval")
    named["compiled_models"]["jetson-xavier"] = (
        "sagemaker://model-package/defects-new:latest-approved"
    )
    field, reason = _one_failure(provider, named)
    assert field == "compiled_models.jetson-xavier"
    assert "model package group defects-new has no Approved model package" in reason


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"TargetDevice": "jetson_xavier"}, "compiled for TargetDevice 'jetson_xavier'"),
        ({"TargetPlatform": {"Os": "LINUX", "Arch": "ARM64"}},
         "compiled for TargetPlatform LINUX/ARM64"),
    ],
)  # fmt: skip
def test_a_compilation_for_another_device_is_refused_at_check(
    provider: Provider, named: dict[str, Any], sm: Any, target: dict[str, Any], expected: str
) -> None:
    compilation_job(sm, "defects-other", X86_AT, **target)
    named["compiled_models"]["x86_64-cpu"] = "sagemaker://compilation-job/defects-other"
    field, reason = _one_failure(provider, named)
    assert field == "compiled_models.x86_64-cpu"
    assert f"{expected}, which is not target x86_64-cpu" in reason


def test_a_compilation_for_the_target_platform_is_accepted(
    provider: Provider, named: dict[str, Any], sm: Any
) -> None:
    compilation_job(sm, "defects-x86-platform", X86_AT,
                    TargetPlatform={"Os": "LINUX", "Arch": "X86_64"})  # fmt: skip
    named["compiled_models"]["x86_64-cpu"] = "sagemaker://compilation-job/defects-x86-platform"
    _checked, failures = provider.check({}, named)
    assert failures == []


@pytest.mark.parametrize(
    ("key", "uri", "expected"),
    [
        ("trained_model_uri", f"sagemaker://compilation-job/{X86_JOB}",
         "a compilation job does not make a trained model"),
        ("compiled_models.x86_64-cpu", f"sagemaker://training-job/{TRAINING_JOB}",
         "a training job does not make a compiled model"),
        ("compiled_models.x86_64-cpu", "sagemaker://model-package/defects:latest-approved?versionId=1",
         ":latest-approved names no one object"),
        ("trained_model_uri", "sagemaker://endpoint/defects", "is not a SageMaker name"),
        ("trained_model_uri", "sagemaker://training-job/nope", "training job nope"),
    ],
)  # fmt: skip
def test_names_that_cannot_be_sources_are_refused(
    provider: Provider, named: dict[str, Any], key: str, uri: str, expected: str
) -> None:
    if key == "trained_model_uri":
        named["trained_model_uri"] = uri
    else:
        named["compiled_models"]["x86_64-cpu"] = uri
    field, reason = _one_failure(provider, named)
    assert field == key
    assert expected in reason


def test_resolution_is_pinned_in_state_and_a_new_approval_is_a_change(
    provider: Provider,
    named: dict[str, Any],
    sm: Any,
    s3: Any,
    tmp_path: Path,
    upload: Callable[[str, Path], str],
) -> None:
    named["component_version"] = ""  # each target its own version
    checked, failures = provider.check({}, named)
    assert failures == []
    # Approved between check (the preview) and create: create ships what check resolved.
    new_jx = samples.write_compiled_model(tmp_path / "jx2.tar.gz", seed=7, target="jetson-xavier")
    jx2_at = upload("neo/jx/model-2.tar.gz", new_jx)
    model_package(sm, GROUP, jx2_at)
    id_, outs = provider.create(checked)
    first_jx = outs["components"]["jetson-xavier"]
    assert outs["resolved_sources"]["jetson-xavier"] == f"model package {GROUP}/1 → {JX_AT}"

    # The next check resolves the name again: version 2, new content, a new version.
    rechecked, failures = provider.check(checked, named)
    assert failures == []
    assert rechecked["resolved_sources"]["jetson-xavier"] == f"model package {GROUP}/2 → {jx2_at}"
    assert rechecked["plan"]["x86_64-cpu"] == "unchanged"
    assert rechecked["plan"]["jetson-xavier"].startswith(
        f"new compiled model (model package {GROUP}/2, etag:"
    )
    assert rechecked["plan"]["jetson-xavier"].endswith(" → 2.0.0")
    diff = provider.diff(id_, outs, rechecked)
    assert "versions" in list(diff.replaces)
    text = provider.stderr()
    assert f"resolved to model package {GROUP}/2 → {jx2_at} (was model package {GROUP}/1)" in text
    new_id, new_outs = provider.create(rechecked)
    assert new_outs["components"]["jetson-xavier"]["component_version"] == "2.0.0"
    assert new_outs["components"]["jetson-xavier"]["digest"] != first_jx["digest"]
    assert new_id != id_


def test_a_new_approved_version_of_the_same_bytes_is_an_in_place_change(
    provider: Provider,
    named: dict[str, Any],
    sm: Any,
    tmp_path: Path,
    upload: Callable[[str, Path], str],
) -> None:
    """No component version moves, but the preview shows the new resolution."""
    id_, checked, outs = up(provider, named)
    same = upload("neo/jx/copy.tar.gz", tmp_path / "arm.tar.gz")
    model_package(sm, GROUP, same)
    rechecked, failures = provider.check(checked, named)
    assert failures == []
    assert rechecked["versions"] == checked["versions"]
    assert rechecked["plan"] == {"x86_64-cpu": "unchanged", "jetson-xavier": "unchanged"}
    diff = provider.diff(id_, outs, rechecked)
    assert list(diff.replaces) == []
    assert list(diff.diffs) == ["resolvedSources"]
    updated = provider.update(id_, outs, rechecked)
    assert updated["resolved_sources"]["jetson-xavier"] == f"model package {GROUP}/2 → {same}"
    assert updated["components"] == outs["components"]


def test_an_unchanged_name_is_no_change(provider: Provider, named: dict[str, Any]) -> None:
    id_, checked, outs = up(provider, named)
    rechecked, failures = provider.check(checked, named)
    assert failures == []
    diff = provider.diff(id_, outs, rechecked)
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
    assert not list(diff.diffs)


def test_a_pinned_object_version_of_a_name(
    provider: Provider,
    named: dict[str, Any],
    s3: Any,
    tmp_path: Path,
    upload: Callable[[str, Path], str],
) -> None:
    """``?versionId=`` after a name reads that object version of what the name resolves to,
    whatever was written to the key since."""
    s3.put_bucket_versioning(Bucket=MODELS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    x86 = samples.write_compiled_model(tmp_path / "x86-v.tar.gz", seed=21)
    upload("neo/x86/model.tar.gz", x86)
    version = s3.head_object(Bucket=MODELS_BUCKET, Key="neo/x86/model.tar.gz")["VersionId"]
    upload("neo/x86/model.tar.gz", samples.write_compiled_model(tmp_path / "x.tar.gz", seed=22))
    named["compiled_models"]["x86_64-cpu"] = (
        f"sagemaker://compilation-job/{X86_JOB}?versionId={version}"
    )
    checked, failures = provider.check({}, named)
    assert failures == []
    identity = Identity.parse(checked["__source_identities"]["compiled_models.x86_64-cpu"])
    assert (identity.version_id, identity.via, identity.at) == (
        version, f"compilation-job/{X86_JOB}", X86_AT,
    )  # fmt: skip
    _id, outs = provider.create(checked)
    with x86.open("rb") as stream:
        package = build_package(stream, checked["__manifest"], checked["model_name"], tmp_path)
    assert outs["components"]["x86_64-cpu"]["digest"] == package.digest
