"""Editing a stack file's config block in place (``pulumi_dda.stack_file``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_dda.errors import InputError
from pulumi_dda.stack_file import StackFile

STACKS = Path(__file__).resolve().parents[2] / "stacks"
MODEL = "pulumi-dda:model"


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    old, new = before.splitlines(), after.splitlines()
    return [line for line in old if line not in new], [line for line in new if line not in old]


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_repository_stack_files_round_trip_byte_for_byte(stack: str) -> None:
    path = STACKS / f"Pulumi.{stack}.yaml"
    stack_file = StackFile.read(path)
    assert stack_file.text() == path.read_text()
    # Setting a block to what it already is changes nothing either.
    stack_file.set_block(MODEL, stack_file.get(MODEL))
    assert stack_file.text() == path.read_text()
    assert stack_file.diff() == ""


def test_prod_gets_dev_model_and_nothing_else_changes(tmp_path: Path) -> None:
    prod_text = (STACKS / "Pulumi.prod.yaml").read_text()
    prod = StackFile(tmp_path / "Pulumi.prod.yaml", prod_text)
    model = copy.deepcopy(StackFile.read(STACKS / "Pulumi.dev.yaml").get(MODEL))
    model["componentVersion"] = "2.0.0"
    long_uri = model["compiledModels"]["x86_64-cpu"] + "?versionId=" + "v" * 120
    model["compiledModels"]["x86_64-cpu"] = long_uri
    prod.set_block(MODEL, model)
    text = prod.text()

    removed, added = _changed_lines(prod_text, text)
    assert removed == ["    componentVersion: 1.0.0", f"      x86_64-cpu: {long_uri[:-131]}"]
    assert added == ["    componentVersion: 2.0.0", f"      x86_64-cpu: {long_uri}"]
    # The promotion comment above the block and the CSR block scalars are untouched.
    assert "  # Promotion: once a model is validated on dev's devices" in text
    before, after = yaml.safe_load(prod_text)["config"], yaml.safe_load(text)["config"]
    assert after.pop(MODEL) == model
    before.pop(MODEL)
    assert after == before
    assert list(yaml.safe_load(text)["config"]) == list(yaml.safe_load(prod_text)["config"])
    diff = prod.diff("Pulumi.prod.yaml")
    assert diff.startswith("--- Pulumi.prod.yaml (before)\n+++ Pulumi.prod.yaml (after)\n")
    assert "+    componentVersion: 2.0.0\n" in diff


SMALL = """\
# Header comment.
config:
  aws:region: eu-west-1
  pulumi-dda:flag: "false"   # quoted on purpose
  pulumi-dda:model:
    componentName: model-a     # the name
    componentVersion: 1.0.0
    # Trained on run 5.
    trainedModelUri: s3://ml/train.tar.gz
    compiledModels:
      x86_64-cpu: s3://ml/x86.tar.gz   # x86 line
      jetson-xavier: s3://ml/jx.tar.gz
    legacyKey: drop me
  # After the model.
  pulumi-dda:tags:
    stage: prod
"""


def _small(tmp_path: Path) -> StackFile:
    return StackFile(tmp_path / "Pulumi.prod.yaml", SMALL)


def test_kept_keys_keep_their_comments_and_places(tmp_path: Path) -> None:
    stack_file = _small(tmp_path)
    model: dict[str, Any] = {
        "componentName": "model-a",
        "friendlyName": "A",
        "trainedModelUri": "s3://ml/train.tar.gz?versionId=t1",
        "compiledModels": {
            "x86_64-cpu": "s3://ml/x86.tar.gz?versionId=x1",
            "arm64-cpu": "s3://ml/arm.tar.gz?versionId=a1",
        },
    }
    stack_file.set_block(MODEL, model)
    assert (
        stack_file.text()
        == """\
# Header comment.
config:
  aws:region: eu-west-1
  pulumi-dda:flag: "false"   # quoted on purpose
  pulumi-dda:model:
    componentName: model-a     # the name
    friendlyName: A
    # Trained on run 5.
    trainedModelUri: s3://ml/train.tar.gz?versionId=t1
    compiledModels:
      x86_64-cpu: s3://ml/x86.tar.gz?versionId=x1 # x86 line
      arm64-cpu: s3://ml/arm.tar.gz?versionId=a1
  # After the model.
  pulumi-dda:tags:
    stage: prod
"""
    )
    assert stack_file.get(MODEL) == model


def test_a_new_key_goes_after_the_key_it_follows_in_the_source(tmp_path: Path) -> None:
    stack_file = _small(tmp_path)
    model = stack_file.get(MODEL)
    del model["componentVersion"]
    stack_file.set_block(MODEL, model)
    assert "componentVersion" not in stack_file.text()
    with_version = {"componentName": "model-a", "componentVersion": "3.0.0"}
    with_version.update({k: v for k, v in model.items() if k != "componentName"})
    stack_file.set_block(MODEL, with_version)
    lines = stack_file.text().splitlines()
    index = lines.index("    componentName: model-a     # the name")
    assert lines[index + 1] == "    componentVersion: 3.0.0"
    # The comment about the trained model stayed above it through the delete and the insert.
    trained = lines.index("    trainedModelUri: s3://ml/train.tar.gz")
    assert lines[trained - 1] == "    # Trained on run 5."
    assert lines.count("    # Trained on run 5.") == 1


def test_a_missing_block_is_added_at_the_end_of_config(tmp_path: Path) -> None:
    stack_file = StackFile(tmp_path / "Pulumi.x.yaml", "config:\n  aws:region: eu-west-1\n")
    stack_file.set_block(MODEL, {"componentName": "model-a", "compiledModels": {"x": "y"}})
    assert stack_file.text() == (
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  pulumi-dda:model:\n"
        "    componentName: model-a\n"
        "    compiledModels:\n"
        "      x: y\n"
    )
    empty = StackFile(tmp_path / "Pulumi.y.yaml", "")
    empty.set_block(MODEL, {"componentName": "model-a"})
    assert yaml.safe_load(empty.text()) == {"config": {MODEL: {"componentName": "model-a"}}}


def test_values_that_need_quotes_get_them(tmp_path: Path) -> None:
    stack_file = _small(tmp_path)
    model = stack_file.get(MODEL)
    model["friendlyName"] = "Defects: line #1"
    model["componentVersion"] = "2.0.0"
    stack_file.set_block(MODEL, model)
    assert yaml.safe_load(stack_file.text())["config"][MODEL] == model


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: [1, 2]\n", "'config' must be a mapping"),
        ("- a\n", "a stack file is a mapping"),
        ("config:\n  a: [\n", "not a YAML stack file"),
    ],
)
def test_what_is_not_a_stack_file_is_an_input_error(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        StackFile(tmp_path / "Pulumi.x.yaml", text)


def test_write_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    with pytest.raises(InputError, match="no such stack file"):
        StackFile.read(path)
    path.write_text(SMALL)
    stack_file = StackFile.read(path)
    stack_file.set_block(MODEL, {**stack_file.get(MODEL), "componentVersion": "2.0.0"})
    stack_file.write()
    assert StackFile.read(path).get(MODEL)["componentVersion"] == "2.0.0"
