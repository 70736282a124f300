"""``pulumi-dda promote``'s decisions, on a fake Pulumi state and fake source identities.

The real CLI, backend and S3 are in ``tests/e2e/test_promote_command.py``; here every case
of the rules: what is refused, how sources and versions are pinned, what the file becomes.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_dda.aws import AwsClients
from pulumi_dda.errors import DdaError, NotFoundError
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.promote import (
    MODEL_CONFIG,
    PromotionRefused,
    PulumiCli,
    last_update,
    pin_uri,
    project_dir_of,
    promote,
)
from pulumi_dda.sources import parse_s3_source, source_identity
from pulumi_dda.stack_file import StackFile

MODEL: dict[str, Any] = {
    "componentName": "model-a",
    "friendlyName": "A",
    "trainedModelUri": "s3://ml/train.tar.gz",
    "compiledModels": {
        "x86_64-cpu": "s3://ml/x86.tar.gz",
        "jetson-xavier": "s3://ml/jx.tar.gz?versionId=jx-old",
    },
}
IDENTITIES = {
    "trained_model_uri": "etag:t;version:t1",
    "compiled_models.x86_64-cpu": "etag:x;version:x+1/2",
    "compiled_models.jetson-xavier": "etag:j;version:jx-old",
}
URI_IDENTITIES = {
    "s3://ml/train.tar.gz": IDENTITIES["trained_model_uri"],
    "s3://ml/x86.tar.gz": IDENTITIES["compiled_models.x86_64-cpu"],
    "s3://ml/jx.tar.gz?versionId=jx-old": IDENTITIES["compiled_models.jetson-xavier"],
}
PROD = """\
config:
  aws:region: eu-west-1
  # Promoted from dev.
  pulumi-dda:model:
    componentName: model-a
    componentVersion: 1.0.0
    trainedModelUri: s3://ml/train-old.tar.gz
    compiledModels:
      x86_64-cpu: s3://ml/x86-old.tar.gz
      jetson-xavier: s3://ml/jx.tar.gz?versionId=jx-old
"""


def _update(kind: str = "update", result: str = "succeeded", model: Any = MODEL) -> dict[str, Any]:
    config = {} if model is None else {MODEL_CONFIG: {"objectValue": model, "secret": False}}
    return {"version": 0, "kind": kind, "result": result, "startTime": "T", "config": config}


def _export(versions: dict[str, str], identities: dict[str, str] | None = None) -> dict[str, Any]:
    stack = "urn:pulumi:dev::pulumi-dda::pulumi:pulumi:Stack::pulumi-dda-dev"
    components = {t: {"component_version": v, "arn": "arn"} for t, v in versions.items()}
    return {
        "version": 3,
        "deployment": {
            "resources": [
                {
                    "urn": stack,
                    "type": "pulumi:pulumi:Stack",
                    "outputs": {"components": components},
                },
                {
                    "urn": "urn:pulumi:dev::pulumi-dda::pulumi-python:dynamic:Resource::model",
                    "type": "pulumi-python:dynamic:Resource",
                    "inputs": {},
                    "outputs": {"source_identities": identities or IDENTITIES},
                },
            ]
        },
    }


class FakeState:
    def __init__(self, history: list[dict[str, Any]], export: dict[str, Any]) -> None:
        self._history, self._export = history, export

    def history(self, stack: str) -> list[dict[str, Any]]:
        assert stack == "dev"
        return self._history

    def export(self, stack: str) -> dict[str, Any]:
        assert stack == "dev"
        return self._export


def _files(tmp_path: Path, model: dict[str, Any] = MODEL) -> tuple[StackFile, StackFile]:
    dev = yaml.safe_dump({"config": {"aws:region": "eu-west-1", MODEL_CONFIG: model}})
    return StackFile(tmp_path / "Pulumi.dev.yaml", dev), StackFile(
        tmp_path / "Pulumi.prod.yaml", PROD
    )


def _promote(
    tmp_path: Path,
    versions: dict[str, str] | None = None,
    history: list[dict[str, Any]] | None = None,
    identities: dict[str, str] | None = None,
    fresh: dict[str, str] | None = None,
) -> tuple[StackFile, list[str]]:
    dev, prod = _files(tmp_path)
    state = FakeState(
        [_update()] if history is None else history,
        _export(versions or {"x86_64-cpu": "2.0.0", "jetson-xavier": "2.0.0"}, identities),
    )
    now = {**URI_IDENTITIES, **(fresh or {})}

    def identity_of(uri: str) -> str:
        if now[uri] == "deleted":
            raise NotFoundError(f"looking up {uri}: NoSuchKey", "NoSuchKey")
        return now[uri]

    result = promote(dev, prod, "dev", state, identity_of)
    return result.target, result.notes


def test_sources_pinned_and_shared_version_set(tmp_path: Path) -> None:
    prod, notes = _promote(tmp_path)
    assert prod.get(MODEL_CONFIG) == {
        "componentName": "model-a",
        "componentVersion": "2.0.0",
        "friendlyName": "A",
        "trainedModelUri": "s3://ml/train.tar.gz?versionId=t1",
        "compiledModels": {
            # The id is percent-encoded; the provider reads it back as it was.
            "x86_64-cpu": "s3://ml/x86.tar.gz?versionId=x%2B1%2F2",
            # Already pinned: as it is.
            "jetson-xavier": "s3://ml/jx.tar.gz?versionId=jx-old",
        },
    }
    assert parse_s3_source(prod.get(MODEL_CONFIG)["compiledModels"]["x86_64-cpu"]).version_id == (
        "x+1/2"
    )
    assert "componentVersion 2.0.0: the version every target of dev resolved to" in notes
    text = prod.text()
    assert text.startswith("config:\n  aws:region: eu-west-1\n  # Promoted from dev.\n")
    assert "    componentVersion: 2.0.0\n    friendlyName: A\n" in text


def test_differing_versions_leave_component_version_out(tmp_path: Path) -> None:
    prod, notes = _promote(tmp_path, versions={"x86_64-cpu": "2.0.0", "jetson-xavier": "1.0.0"})
    assert "componentVersion" not in prod.get(MODEL_CONFIG)
    assert any(
        "versions differ (jetson-xavier 1.0.0, x86_64-cpu 2.0.0): componentVersion left out" in n
        for n in notes
    )


def test_local_paths_stay_paths(tmp_path: Path) -> None:
    model = {**MODEL, "trainedModelUri": "models/train.tar.gz"}
    dev, prod = _files(tmp_path, model)
    identities = {**IDENTITIES, "trained_model_uri": "sha256:abc"}
    state = FakeState(
        [_update(model=model)],
        _export({"x86_64-cpu": "1.0.0", "jetson-xavier": "1.0.0"}, identities),
    )
    now = {**URI_IDENTITIES, "models/train.tar.gz": "sha256:abc"}
    promoted = promote(dev, prod, "dev", state, now.__getitem__).target.get(MODEL_CONFIG)
    assert promoted["trainedModelUri"] == "models/train.tar.gz"


@pytest.mark.parametrize(
    ("fresh", "message"),
    [
        (
            {"s3://ml/x86.tar.gz": "etag:other;version:x2"},
            "sources changed since dev's last update: compiledModels.x86_64-cpu "
            "(s3://ml/x86.tar.gz: recorded etag:x;version:x+1/2, now etag:other;version:x2)",
        ),
        ({"s3://ml/train.tar.gz": "deleted"}, "trainedModelUri (s3://ml/train.tar.gz: recorded"),
    ],
)
def test_changed_sources_are_refused(tmp_path: Path, fresh: dict[str, str], message: str) -> None:
    with pytest.raises(PromotionRefused, match=re.escape(message)):
        _promote(tmp_path, fresh=fresh)


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ([], "dev has no update in its history"),
        ([_update(result="failed"), _update()], r"dev's last update \(started T\) failed"),
        ([_update(result="in-progress")], r"last update \(started T\) in-progress"),
        ([_update("destroy"), _update()], "after its last update dev had a destroy that succeeded"),
        ([_update("refresh", "failed"), _update()], "had a refresh that failed"),
    ],
)
def test_state_not_left_by_a_good_update_is_refused(
    tmp_path: Path, history: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(PromotionRefused, match=message):
        _promote(tmp_path, history=history)


def test_successful_refresh_after_the_update_is_fine() -> None:
    update = _update()
    assert last_update("dev", [_update("refresh"), update, _update(result="failed")]) is update


def test_model_block_edited_since_the_update_is_refused(tmp_path: Path) -> None:
    deployed = copy.deepcopy(MODEL)
    deployed["compiledModels"]["x86_64-cpu"] = "s3://ml/x86-previous.tar.gz"
    with pytest.raises(PromotionRefused, match="pulumi-dda:model changed since dev's last update"):
        _promote(tmp_path, history=[_update(model=deployed)])
    # A backend that recorded no config: the sources' identities still guard the promotion.
    prod, _ = _promote(tmp_path, history=[_update(model=None)])
    assert prod.get(MODEL_CONFIG)["componentVersion"] == "2.0.0"


def test_components_output_must_match_the_model_targets(tmp_path: Path) -> None:
    with pytest.raises(PromotionRefused, match=r"targets \['x86_64-cpu'\] but the model block"):
        _promote(tmp_path, versions={"x86_64-cpu": "1.0.0"})


def test_state_without_the_model_is_refused(tmp_path: Path) -> None:
    dev, prod = _files(tmp_path)
    empty = {"deployment": {"resources": []}}
    with pytest.raises(PromotionRefused, match="has no DdaModelComponent 'model'"):
        promote(dev, prod, "dev", FakeState([_update()], empty), URI_IDENTITIES.__getitem__)


@pytest.mark.parametrize("identity", ["etag:x", "etag:x;version:null"])
def test_unversioned_source_cannot_be_pinned(identity: str) -> None:
    with pytest.raises(PromotionRefused) as refused:
        pin_uri("s3://ml/x86.tar.gz", identity)
    message = str(refused.value)
    assert message.startswith(
        "promotion needs versioned source buckets: enable versioning on bucket ml "
        "(s3://ml/x86.tar.gz has no object version to pin)"
    )
    assert "\n" not in message


def test_promoting_sources_in_an_unversioned_bucket_says_versioning_is_needed(
    tmp_path: Path, endpoint: LocalEndpoint, clients: AwsClients
) -> None:
    """Dev deployed from a bucket without versioning (S3 of the local endpoint, identities as
    the provider computes them): the promotion is refused naming the bucket to version, and
    prod's file is left as it was."""
    s3 = endpoint.client("s3")
    bucket = f"ml-unversioned-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    model = {
        "componentName": "model-a",
        "trainedModelUri": f"s3://{bucket}/train.tar.gz",
        "compiledModels": {"x86_64-cpu": f"s3://{bucket}/x86.tar.gz"},
    }
    for key in ("train.tar.gz", "x86.tar.gz"):
        s3.put_object(Bucket=bucket, Key=key, Body=f"{key} bytes".encode())
    recorded = {
        "trained_model_uri": source_identity(model["trainedModelUri"], clients),
        "compiled_models.x86_64-cpu": source_identity(
            model["compiledModels"]["x86_64-cpu"], clients
        ),
    }
    dev, prod = _files(tmp_path, model)
    state = FakeState([_update(model=model)], _export({"x86_64-cpu": "1.0.0"}, recorded))
    before = prod.text()
    with pytest.raises(PromotionRefused) as refused:
        promote(dev, prod, "dev", state, lambda uri: source_identity(uri, clients))
    assert str(refused.value).startswith(
        f"promotion needs versioned source buckets: enable versioning on bucket {bucket} ("
    )
    assert prod.text() == before


def test_project_dir_is_found_above_the_stacks_dir(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\n")
    (tmp_path / "stacks").mkdir()
    assert project_dir_of(tmp_path / "stacks") == tmp_path
    with pytest.raises(DdaError, match=r"no Pulumi\.yaml"):
        project_dir_of(Path("/"))


def test_pulumi_missing_from_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DdaError, match="not on PATH"):
        PulumiCli(tmp_path, command="pulumi-that-does-not-exist").history("dev")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulumi_dda.cli", "promote", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_cli_usage_and_missing_files(tmp_path: Path) -> None:
    same = _cli("--from", "dev", "--to", "dev", cwd=tmp_path)
    assert same.returncode == 2
    assert "--from and --to name the same stack" in same.stderr
    missing = _cli("--from", "dev", "--to", "prod", cwd=tmp_path)
    assert missing.returncode == 1
    assert (
        missing.stderr
        == f"pulumi-dda promote: error: {Path('stacks/Pulumi.dev.yaml')}: no such stack file\n"
    )
    helped = _cli("--help", cwd=tmp_path)
    assert "pulumi-dda promote --from dev --to prod --dry-run" in helped.stdout
    for flag in ("--from", "--to", "--stacks-dir", "--dry-run", "--debug"):
        line = next(x for x in helped.stdout.splitlines() if x.strip().startswith(flag))
        index = helped.stdout.index(line)
        assert "e.g." in helped.stdout[index : index + 300], flag
