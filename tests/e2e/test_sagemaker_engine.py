"""Sources named by SageMaker under the real engine: a preview shows what each name resolved
to, a newly approved package version is a change in the next preview (never a silent one), a
refused state fails the preview in one line, and ``pulumi-dda promote`` carries the resolved
names and versions into the next stack's file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import ARTIFACTS, MODELS, REGION, Events, copy_repo_project, workspace
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.local_server import seed_local_servers

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
GROUP = "defects-jx"
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:model-package/{GROUP}"


def _register(ep: LocalEndpoint, work: Path) -> dict[str, Any]:
    """Versioned sample archives, a training job, a Neo job for x86 and an approved package
    for jetson; returns the ``model`` config that names them."""
    s3, sm = ep.client("s3"), ep.client("sagemaker")
    s3.create_bucket(Bucket=MODELS)
    s3.put_bucket_versioning(Bucket=MODELS, VersioningConfiguration={"Status": "Enabled"})
    s3.upload_file(
        str(samples.write_trained_model(work / "t.tar.gz")),
        MODELS,
        "train/defects-train-1/output/model.tar.gz",
    )
    s3.upload_file(
        str(samples.write_compiled_model(work / "x.tar.gz", seed=1)), MODELS, "neo/x86/model.tar.gz"
    )
    jx = samples.write_compiled_model(work / "j.tar.gz", seed=2, target="jetson-xavier")
    s3.upload_file(str(jx), MODELS, "neo/jx/model.tar.gz")
    sm.create_training_job(
        TrainingJobName="defects-train-1",
        AlgorithmSpecification={"TrainingImage": "dda-training", "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": f"s3://{MODELS}/train"},
        ResourceConfig={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    sm.create_compilation_job(
        CompilationJobName="defects-x86",
        RoleArn=ROLE,
        InputConfig={
            "S3Uri": f"s3://{MODELS}/train/defects-train-1/output/model.tar.gz",
            "DataInputConfig": '{"input": [1, 3, 224, 224]}',
            "Framework": "PYTORCH",
        },
        OutputConfig={"S3OutputLocation": f"s3://{MODELS}/neo/x86/model.tar.gz",
                      "TargetDevice": "ml_c5"},
        StoppingCondition={"MaxRuntimeInSeconds": 900},
    )  # fmt: skip
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    approve(sm, f"s3://{MODELS}/neo/jx/model.tar.gz")
    return {
        "componentName": "model-defects",
        "friendlyName": "Defects",
        "trainedModelUri": "sagemaker://training-job/defects-train-1",
        "compiledModels": {
            "x86_64-cpu": "sagemaker://compilation-job/defects-x86",
            "jetson-xavier": f"sagemaker://model-package/{GROUP}:latest-approved",
        },
    }


def approve(sm: Any, data_url: str) -> None:
    """A new model package version of the group, approved."""
    sm.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": "dda-inference", "ModelDataUrl": data_url}],
            "SupportedContentTypes": ["application/x-image"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )


def _lines(events: Events) -> list[str]:
    return [text for name, _eph, text in events.resource_messages if name == "model"]


def test_preview_shows_resolution_and_a_new_approval_is_a_change(
    new_stack: Callable[..., auto.Stack],
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    seed_local_servers(gg)
    s3.create_bucket(Bucket=ARTIFACTS)
    model = _register(ep, tmp_path)
    stack = new_stack("dev", {"model": model, "artifactBucket": ARTIFACTS})

    events = Events()
    stack.preview(on_event=events, diff=True)
    resolved = events.inputs["model"]["resolved_sources"]
    assert resolved == {
        "trained": f"training job defects-train-1 → s3://{MODELS}/train/defects-train-1/output/"
        "model.tar.gz",
        "x86_64-cpu": f"compilation job defects-x86 → s3://{MODELS}/neo/x86/model.tar.gz",
        "jetson-xavier": f"model package {GROUP}/1 → s3://{MODELS}/neo/jx/model.tar.gz",
    }
    up = stack.up()
    assert up.summary.result == "succeeded"
    assert stack.preview().change_summary == {"same": 2}

    # A new jetson model is approved: the next preview shows it, the target alone moving.
    jx2 = samples.write_compiled_model(tmp_path / "j2.tar.gz", seed=9, target="jetson-xavier")
    s3.upload_file(str(jx2), MODELS, "neo/jx/run2/model.tar.gz")
    approve(ep.client("sagemaker"), f"s3://{MODELS}/neo/jx/run2/model.tar.gz")
    events = Events()
    preview = stack.preview(on_event=events, diff=True)
    assert preview.change_summary.get("replace") == 1
    assert {"versions", "plan", "resolved_sources"} <= set(events.diffs["model"])
    new = events.inputs["model"]
    assert new["resolved_sources"]["jetson-xavier"] == (
        f"model package {GROUP}/2 → s3://{MODELS}/neo/jx/run2/model.tar.gz"
    )
    assert new["plan"]["x86_64-cpu"] == "unchanged"
    assert new["plan"]["jetson-xavier"].startswith(f"new compiled model (model package {GROUP}/2")
    lines = "\n".join(_lines(events))
    assert (
        f"compiledModels.jetson-xavier resolved to model package {GROUP}/2 → "
        f"s3://{MODELS}/neo/jx/run2/model.tar.gz (was model package {GROUP}/1)" in lines
    )

    # A job that failed since: the preview fails naming the input, in one line.
    ep.set_sagemaker_job_status("compilation-job", "defects-x86", "FAILED", "ClientError: bad op")
    with pytest.raises(auto.CommandError) as failed:
        stack.preview()
    assert (
        "compiledModels.x86_64-cpu sagemaker://compilation-job/defects-x86: compilation job "
        "defects-x86 is FAILED (ClientError: bad op), not COMPLETED" in str(failed.value)
    )
    stack.destroy()


def test_promote_carries_resolved_names_and_versions(
    tmp_path: Path, env: dict[str, str], engine: Path, ep: LocalEndpoint
) -> None:
    """Dev and prod in one account (a job name is looked up in the stack's account)."""
    project = copy_repo_project(tmp_path / "project", stack_files=False)
    stacks_dir = project / "stacks"
    model = _register(ep, tmp_path)
    iot, gg = ep.client("iot"), ep.client("greengrassv2")
    seed_local_servers(gg)
    ep.client("s3").create_bucket(Bucket=ARTIFACTS)  # one account: prod adopts dev's versions
    devices = {target: [f"line1-{target}"] for target in model["compiledModels"]}
    for target, things in devices.items():
        group = f"dda-{target.replace('_', '-')}"
        iot.create_thing_group(thingGroupName=group)
        for thing in things:
            iot.create_thing(thingName=thing)
            iot.add_thing_to_thing_group(thingGroupName=group, thingName=thing)
    for stage in ("dev", "prod"):
        config = {
            "aws:region": REGION,
            "pulumi-dda:manageInfrastructure": "false",
            "pulumi-dda:accountId": "123456789012",
            "pulumi-dda:artifactBucket": ARTIFACTS,
            "pulumi-dda:devices": devices,
            **({"pulumi-dda:takeOver": True} if stage == "prod" else {}),  # dev's thing groups
            "pulumi-dda:model": model,
        }
        (stacks_dir / f"Pulumi.{stage}.yaml").write_text(
            yaml.safe_dump({"config": config}, sort_keys=False, width=4096)
        )
    stacks = workspace(project, env, engine)
    dev = auto.Stack.create("dev", stacks)
    prod = auto.Stack.create("prod", stacks)
    dev.up()
    # Approved after dev's update: the promotion still carries what dev tested (version 1).
    done = subprocess.run(
        [str(Path(sys.prefix) / "bin" / "pulumi-dda"), "promote", "--from", "dev", "--to",
         "prod", "--stacks-dir", str(stacks_dir)],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    s3 = ep.client("s3")

    def version(key: str) -> str:
        return str(s3.head_object(Bucket=MODELS, Key=key)["VersionId"])

    promoted = yaml.safe_load((stacks_dir / "Pulumi.prod.yaml").read_text())["config"]
    block = promoted["pulumi-dda:model"]
    assert block["trainedModelUri"] == (
        "sagemaker://training-job/defects-train-1?versionId="
        + version("train/defects-train-1/output/model.tar.gz")
    )
    assert block["compiledModels"] == {
        "x86_64-cpu": "sagemaker://compilation-job/defects-x86?versionId="
        + version("neo/x86/model.tar.gz"),
        "jetson-xavier": f"sagemaker://model-package/{PACKAGE_ARN}/1?versionId="
        + version("neo/jx/model.tar.gz"),
    }
    assert f"compiledModels.jetson-xavier: sagemaker://model-package/{GROUP}:latest-approved" in (
        done.stdout
    )

    # A newer approval does not reach prod: its preview resolves what dev shipped.
    approve(ep.client("sagemaker"), f"s3://{MODELS}/neo/x86/model.tar.gz")
    events = Events()
    prod.preview(on_event=events)
    model_state = next(
        r for r in dev.export_stack().deployment["resources"]
        if r["type"] == "dda:index:ModelComponent"
    )  # fmt: skip
    assert events.inputs["model"]["resolved_sources"] == model_state["outputs"]["resolvedSources"]
    assert events.inputs["model"]["resolved_sources"]["jetson-xavier"].startswith(
        f"model package {GROUP}/1 → "
    )
    assert events.model_ops()["model"] == ["create"]
    dev.destroy()
