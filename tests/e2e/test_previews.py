"""What a reviewer reads: ``pulumi preview --diff`` of a one-target model change.

The model's block names the changed target, what changed in it and its new version in one
``plan`` line per target; bookkeeping (``__``-prefixed state) and ``__provider`` never show;
the deployment of the changed target shows the version it moves to, the other is unchanged.
Set ``PULUMI_DDA_PREVIEW_OUT`` to a file to keep the preview text (the README's example).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e_harness import ARTIFACTS, MODELS, set_config, thing_groups
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.model_component import STATE_ONLY

RESOURCE_LINE = re.compile(r"^ {4}[-~+]+ ?dda:index:(\w+): \((\S+)\)$")
URN = re.compile(r"\[urn=\S+::(\S+)\]$")


def _blocks(text: str) -> dict[str, list[str]]:
    """Each resource's lines of the preview, keyed by resource name."""
    chunks: list[list[str]] = []
    for line in text.splitlines():
        if RESOURCE_LINE.match(line):
            chunks.append([line])
        elif line.startswith(("    --outputs:--", "Resources:")):
            break
        elif chunks:
            chunks[-1].append(line)
    return {URN.search(c[2])[1]: c for c in chunks}  # type: ignore[index]


def test_a_one_target_change_reads_as_that_target_alone(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    ep: LocalEndpoint,
    s3: Any,
    tmp_path: Path,
) -> None:
    arm = samples.write_compiled_model(tmp_path / "arm.tar.gz", seed=7, target="arm64-cpu")
    s3.upload_file(str(arm), MODELS, "neo/arm/model.tar.gz")
    compiled = {
        **model_config["compiledModels"],
        "arm64-cpu": f"s3://{MODELS}/neo/arm/model.tar.gz",
    }
    groups = thing_groups(ep, compiled)
    omitted = {k: v for k, v in model_config.items() if k != "componentVersion"}
    omitted["compiledModels"] = compiled
    stack = new_stack("dev", {"model": omitted, "artifactBucket": ARTIFACTS, "deployTo": groups})
    stack.up()
    new_x86 = samples.write_compiled_model(tmp_path / "x86-v2.tar.gz", seed=42)
    s3.upload_file(str(new_x86), MODELS, "neo/x86/model.tar.gz")
    etag = s3.head_object(Bucket=MODELS, Key="neo/x86/model.tar.gz")["ETag"].strip('"')

    ep.clear_request_log()
    text = stack.preview(diff=True).stdout
    if os.environ.get("PULUMI_DDA_PREVIEW_OUT"):
        Path(os.environ["PULUMI_DDA_PREVIEW_OUT"]).write_text(text)
    assert len(text.splitlines()) <= 40, text  # the whole preview, three targets and deployments
    blocks = _blocks(text)
    assert set(blocks) == {"model", "deployment-x86_64-cpu"}  # the others: unchanged
    model = blocks["model"]
    assert RESOURCE_LINE.match(model[0]).groups() == ("ModelComponent", "replace")  # type: ignore[union-attr]
    shown = "\n".join(model)
    new_line = f"new compiled model (etag:{etag[:12]}) → 2.0.0"
    assert f'~ x86_64-cpu: "new component → 1.0.0" => "{new_line}"' in shown
    assert re.search(r'~ componentVersion: "1\.0\.0" => "2\.0\.0"', shown)
    for quiet in ("jetson-xavier", "arm64-cpu", "waitTimeoutSeconds", "components", "trained"):
        assert quiet not in shown, quiet  # only the changed target, no unchanged input
    for hidden in (*STATE_ONLY, "__provider"):
        assert not re.search(rf"\b{hidden}\s*:", shown), hidden
    deployment = "\n".join(blocks["deployment-x86_64-cpu"])
    assert '~ componentVersion: "1.0.0" => "2.0.0"' in deployment
    assert "owner" not in deployment

    # Without --diff: the resource's line names the target, the version it moves to and the
    # version it releases.
    plain = stack.preview().stdout
    assert re.search(
        rf"model replace .*x86_64-cpu: 1\.0\.0 → 2\.0\.0, new compiled model \(etag:{etag[:12]}\); "
        r"1\.0\.0 released after the update",
        plain,
    ), plain
    assert "every target gets a new version" not in plain

    # The trained model is unchanged, so neither the preview nor the replacement (whose engine
    # re-check has no old state) reads it; only x86's new archive is read, once, to package it.
    stack.up()
    reads = [r.path for r in ep.request_log() if r.operation == "GetObject"]
    assert [p for p in reads if "/train/" in p or "/neo/jx/" in p] == []
    assert len([p for p in reads if "/neo/x86/" in p]) == 1, reads

    # After that change, a tags-only update shows the tags and nothing else (a plan line
    # turning ``unchanged`` is not worth one).
    set_config(stack, "tags", {"team": "vision"})
    model = _blocks(stack.preview(diff=True).stdout)["model"]
    changed = [" ".join(line.split()) for line in model if line.lstrip()[:2] in ("~ ", "- ", "+ ")]
    assert changed == [
        "~ dda:index:ModelComponent: (update)",
        "~ tags: {",
        '+ team: "vision"',
    ], "\n".join(model)


def test_a_change_that_moves_every_device_says_so_in_one_line(
    new_stack: Callable[..., auto.Stack], model_config: dict[str, Any], ep: LocalEndpoint
) -> None:
    omitted = {k: v for k, v in model_config.items() if k != "componentVersion"}
    stack = new_stack("dev", {"model": omitted, "artifactBucket": ARTIFACTS})
    stack.up()
    set_config(stack, "model", {**omitted, "friendlyName": "Defects v2"})
    plain = stack.preview().stdout
    lines = [line for line in plain.splitlines() if "every target gets a new version" in line]
    assert lines, plain
    assert all("friendlyName changed" in line for line in lines), lines
    assert "this moves every device that its deployments reach" in lines[0]
    for target in model_config["compiledModels"]:
        assert f"{target}: 1.0.0 → 2.0.0, friendlyName changed; 1.0.0 released" in plain
