"""``pulumi-dda promote`` under the real CLI: the repository's program, the local endpoint.

Dev and prod are two stacks of a copy of the project (``stacks/``, unmanaged infrastructure),
each in an account of its own: prod reaches its account with ``pulumi-dda:roleArn``. The
promotion is the command a pull request runs: it pins dev's model block into prod's stack file,
and prod's preview then shows exactly that change.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import MODELS, REGION, SAMPLE_MODEL, Events, copy_repo_project, workspace
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.local.local_server import seed_local_servers

DEV_ACCOUNT = "123456789012"
PROD_ACCOUNT = "222222222222"
PROD_ROLE = f"arn:aws:iam::{PROD_ACCOUNT}:role/dda-deployer"
DEVICES = {"x86_64-cpu": ["line1-x86"], "jetson-xavier": ["line1-jetson"]}
MODEL_V1 = SAMPLE_MODEL
PROD_HEADER = "# Prod: promoted from dev by `pulumi-dda promote` (this comment must survive).\n"
MODEL_COMMENT = "  # The model block: never edited by hand here.\n"


def _stack_text(account: str, bucket: str, stage: str, model: dict[str, Any], **extra: str) -> str:
    config: dict[str, Any] = {
        "aws:region": REGION,
        "pulumi-dda:manageInfrastructure": "false",
        "pulumi-dda:accountId": account,
        **{f"pulumi-dda:{k}": v for k, v in extra.items()},
        "pulumi-dda:artifactBucket": bucket,
        "pulumi-dda:tags": {"stage": stage},
        "pulumi-dda:devices": DEVICES,
        "pulumi-dda:model": model,
    }
    text = yaml.safe_dump({"config": config}, sort_keys=False, width=4096)
    return text.replace("  pulumi-dda:model:\n", MODEL_COMMENT + "  pulumi-dda:model:\n")


def _bootstrap(clients: dict[str, Any], bucket: str) -> None:
    """What an unmanaged stack takes as existing in its account."""
    clients["s3"].create_bucket(Bucket=bucket)
    for target, things in DEVICES.items():
        group = f"dda-{target.replace('_', '-')}"
        clients["iot"].create_thing_group(thingGroupName=group)
        for thing in things:
            clients["iot"].create_thing(thingName=thing)
            clients["iot"].add_thing_to_thing_group(thingGroupName=group, thingName=thing)
    seed_local_servers(clients["greengrassv2"])


def _upload(s3: Any, key: str, path: Path) -> str:
    s3.upload_file(str(path), MODELS, key)
    return str(s3.head_object(Bucket=MODELS, Key=key)["VersionId"])


class Setup:
    """The project copy, both stacks and the command, for one test."""

    def __init__(self, root: Path, env: dict[str, str], engine: Path, ep: LocalEndpoint) -> None:
        self.root, self.env, self.ep = root, env, ep
        self.project = root / "project"
        self.stacks = self.project / "stacks"
        copy_repo_project(self.project, stack_files=False)
        self.s3 = ep.client("s3")
        self.s3.create_bucket(Bucket=MODELS)
        self.s3.put_bucket_versioning(Bucket=MODELS, VersioningConfiguration={"Status": "Enabled"})
        self.versions = {
            "train": _upload(
                self.s3, "train/model.tar.gz", samples.write_trained_model(root / "t.tar.gz")
            ),
            "x86": _upload(
                self.s3, "neo/x86/model.tar.gz", samples.write_compiled_model(root / "x", seed=1)
            ),
            "jx": _upload(
                self.s3,
                "neo/jx/model.tar.gz",
                samples.write_compiled_model(root / "j", seed=2, target="jetson-xavier"),
            ),
        }
        _bootstrap({n: ep.client(n) for n in ("s3", "iot", "greengrassv2")}, "edge-dev")
        creds = ep.client("sts").assume_role(RoleArn=PROD_ROLE, RoleSessionName="setup")
        prod = {
            "aws_access_key_id": creds["Credentials"]["AccessKeyId"],
            "aws_secret_access_key": creds["Credentials"]["SecretAccessKey"],
            "aws_session_token": creds["Credentials"]["SessionToken"],
        }
        _bootstrap({n: ep.client(n, **prod) for n in ("s3", "iot", "greengrassv2")}, "edge-prod")
        self.write("dev", _stack_text(DEV_ACCOUNT, "edge-dev", "dev", MODEL_V1))
        prod_text = _stack_text(PROD_ACCOUNT, "edge-prod", "prod", MODEL_V1, roleArn=PROD_ROLE)
        self.write("prod", PROD_HEADER + prod_text)
        stacks = workspace(self.project, env, engine)
        self.dev = auto.Stack.create("dev", stacks)
        self.prod = auto.Stack.create("prod", stacks)

    def file(self, stack: str) -> Path:
        return self.stacks / f"Pulumi.{stack}.yaml"

    def write(self, stack: str, text: str) -> None:
        self.file(stack).write_text(text)

    def set_dev_model(self, model: dict[str, Any]) -> None:
        document = yaml.safe_load(self.file("dev").read_text())
        document["config"]["pulumi-dda:model"] = model
        self.write("dev", yaml.safe_dump(document, sort_keys=False, width=4096))

    def promote(self, *extra: str) -> subprocess.CompletedProcess[str]:
        command = [str(Path(sys.prefix) / "bin" / "pulumi-dda"), "promote"]
        return subprocess.run(
            [*command, "--from", "dev", "--to", "prod", "--stacks-dir", str(self.stacks), *extra],
            cwd=self.root,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture
def setup(tmp_path: Path, env: dict[str, str], engine: Path, ep: LocalEndpoint) -> Setup:
    return Setup(tmp_path, env, engine, ep)


def _pinned(key: str, version_id: str) -> str:
    return f"s3://{MODELS}/{key}?versionId={version_id}"


def test_promote_pins_dev_model_into_prod_and_prod_preview_shows_only_that(setup: Setup) -> None:
    setup.dev.up()
    setup.prod.up()
    prod_before = setup.file("prod").read_text()

    # A new training run: a new x86 archive under a new key; dev bumps to 2.0.0 and is updated.
    run2 = _upload(
        setup.s3,
        "neo/run2/x86/model.tar.gz",
        samples.write_compiled_model(setup.root / "r", seed=7),
    )
    model_v2 = {
        **MODEL_V1,
        "componentVersion": "2.0.0",
        "compiledModels": {
            **MODEL_V1["compiledModels"],
            "x86_64-cpu": f"s3://{MODELS}/neo/run2/x86/model.tar.gz",
        },
    }
    setup.set_dev_model(model_v2)
    dev_v2 = setup.dev.up().outputs["components"].value

    dry = setup.promote("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert setup.file("prod").read_text() == prod_before
    done = setup.promote()
    assert done.returncode == 0, done.stderr
    assert done.stdout == dry.stdout.replace(
        f"--dry-run: {setup.file('prod')} not written",
        f"wrote {setup.file('prod')}: prod's `pulumi preview` shows this change",
    )
    assert "componentVersion 2.0.0" in done.stdout
    assert f"+      x86_64-cpu: {_pinned('neo/run2/x86/model.tar.gz', run2)}" in done.stdout

    # Prod's file: only the model block changed, pinned; comments, order, other keys kept.
    prod_after = setup.file("prod").read_text()
    expected_model = {
        **model_v2,
        "trainedModelUri": _pinned("train/model.tar.gz", setup.versions["train"]),
        "compiledModels": {
            "x86_64-cpu": _pinned("neo/run2/x86/model.tar.gz", run2),
            "jetson-xavier": _pinned("neo/jx/model.tar.gz", setup.versions["jx"]),
        },
    }
    before, after = yaml.safe_load(prod_before), yaml.safe_load(prod_after)
    assert list(after["config"]) == list(before["config"])
    assert after["config"].pop("pulumi-dda:model") == expected_model
    before["config"].pop("pulumi-dda:model")
    assert after == before
    assert prod_after.startswith(PROD_HEADER)
    assert MODEL_COMMENT in prod_after
    changed = [line for line in prod_after.splitlines() if line not in prod_before.splitlines()]
    assert len(changed) == 4  # componentVersion, trainedModelUri and the two compiled models

    # Prod's preview: the model is replaced with the promoted inputs, the deployments follow.
    events = Events()
    setup.prod.preview(on_event=events)
    assert events.model_ops() == {
        "model": ["create-replacement", "replace", "delete-replaced"],
        "deployment-x86_64-cpu": ["update"],
        "deployment-jetson-xavier": ["update"],
    }
    assert set(events.diffs["model"]) == {
        "compiled_models",
        "component_version",
        "plan",
        "trained_model_uri",
        "versions",
    }
    assert events.diffs["deployment-x86_64-cpu"] == ["components"]
    assert events.inputs["model"]["compiled_models"] == expected_model["compiledModels"]
    prod_v2 = setup.prod.up().outputs["components"].value
    for target, component in prod_v2.items():
        assert component["component_version"] == "2.0.0"
        assert f":{PROD_ACCOUNT}:" in component["arn"]
        assert component["digest"] == dev_v2[target]["digest"]

    # Someone overwrites dev's key: prod is pinned and does not move; promoting again is refused.
    _upload(
        setup.s3,
        "neo/run2/x86/model.tar.gz",
        samples.write_compiled_model(setup.root / "o", seed=9),
    )
    setup.prod.preview(expect_no_changes=True)
    refused = setup.promote()
    assert refused.returncode == 1
    assert "sources changed since dev's last update: compiledModels.x86_64-cpu" in refused.stderr
    assert setup.file("prod").read_text() == prod_after


def test_promote_refuses_after_a_failed_dev_update(setup: Setup) -> None:
    setup.dev.up()
    prod_before = setup.file("prod").read_text()
    broken = {**MODEL_V1, "trainedModelUri": f"s3://{MODELS}/train/missing.tar.gz"}
    setup.set_dev_model(broken)
    with pytest.raises(auto.errors.CommandError):
        setup.dev.up()
    refused = setup.promote()
    assert refused.returncode == 1
    assert "refused: dev's last update (started " in refused.stderr
    assert ") failed: fix dev and run `pulumi up` on it" in refused.stderr
    # Put the file back as it was deployed: still refused, the last update is the failed one.
    setup.set_dev_model(MODEL_V1)
    assert setup.promote().returncode == 1
    assert setup.file("prod").read_text() == prod_before
