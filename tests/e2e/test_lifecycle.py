"""The engine's own sequence on one stack: preview, up, no-op preview/up/refresh, edits, destroy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import ARTIFACTS, MODELS, Events, model_components, set_config
from pulumi import automation as auto

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint


def _versions(gg: Any) -> list[str]:
    return sorted(
        f"{c['componentName']}@{v['componentVersion']}"
        for c in model_components(gg)
        for v in gg.list_component_versions(arn=c["arn"])["componentVersions"]
    )


def _keys(s3: Any) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=ARTIFACTS).get("Contents", []))


def _moved_bytes(ep: LocalEndpoint) -> dict[str, int]:
    log = ep.request_log()
    return {
        "GetObject": sum(r.bytes_out for r in log if r.operation == "GetObject"),
        "PutObject": sum(r.bytes_in for r in log if r.operation in {"PutObject", "UploadPart"}),
    }


def test_preview_up_noop_refresh_edit_disappear_destroy(
    new_stack: Callable[..., auto.Stack],
    model_config: dict[str, Any],
    ep: LocalEndpoint,
    gg: Any,
    s3: Any,
    tmp_path: Path,
) -> None:
    stack = new_stack("dev", {"model": model_config, "artifactBucket": ARTIFACTS})
    _create(stack, gg, s3)
    _no_changes(stack, ep)
    _rewrite_model_then_bump(stack, model_config, gg, s3, tmp_path)
    _disappear(stack, gg)
    stack.destroy()
    assert _versions(gg) == []
    assert _keys(s3) == []


def _create(stack: auto.Stack, gg: Any, s3: Any) -> None:
    events = Events()
    stack.preview(on_event=events)
    assert events.model_ops() == {"model": ["create"]}
    assert _versions(gg) == []
    assert _keys(s3) == []

    events = Events()
    up = stack.up(on_event=events)
    assert events.model_ops() == {"model": ["create"]}
    assert up.summary.resource_changes == {"create": 2}
    assert set(up.outputs["components"].value["model"]) == {"x86_64-cpu", "jetson-xavier"}
    assert _versions(gg) == ["model-defects-jetson-xavier@1.0.0", "model-defects-x86-64-cpu@1.0.0"]
    assert len(_keys(s3)) == 2
    # Progress goes to the model's own line: passing status lines, and a few lines that stay.
    lines = events.resource_messages
    assert {name for name, _, _ in lines} == {"model"}
    uploads = [e for name, e, m in lines if "[x86_64-cpu] uploaded s3://edge-artifacts/" in m]
    assert uploads == [True]
    kept = [m.strip() for _, ephemeral, m in lines if not ephemeral]
    assert sorted(kept) == [
        f"[{t}] created arn:aws:greengrass:us-east-1:123456789012:components:"
        f"model-defects-{t.replace('_', '-')}:versions:1.0.0, DEPLOYABLE"
        for t in ("jetson-xavier", "x86_64-cpu")
    ]


def _no_changes(stack: auto.Stack, ep: LocalEndpoint) -> None:
    ep.clear_request_log()
    events = Events()
    stack.preview(on_event=events, expect_no_changes=True)
    assert events.model_ops() == {"model": ["same"]}
    assert _moved_bytes(ep) == {"GetObject": 0, "PutObject": 0}
    assert stack.up(expect_no_changes=True).summary.resource_changes == {"same": 2}
    stack.refresh(expect_no_changes=True)
    assert _moved_bytes(ep) == {"GetObject": 0, "PutObject": 0}


def _rewrite_model_then_bump(
    stack: auto.Stack, model_config: dict[str, Any], gg: Any, s3: Any, tmp_path: Path
) -> None:
    new_x86 = samples.write_compiled_model(tmp_path / "x86-v2.tar.gz", seed=42)
    s3.upload_file(str(new_x86), MODELS, "neo/x86/model.tar.gz")
    with pytest.raises(auto.CommandError) as info:
        stack.preview()
    assert "bump componentVersion to 2.0.0" in str(info.value)
    assert "compiledModels.x86_64-cpu changed" in str(info.value)

    set_config(stack, "model", {**model_config, "componentVersion": "2.0.0"})
    events = Events()
    stack.preview(on_event=events)
    assert events.model_ops() == {"model": ["create-replacement", "replace", "delete-replaced"]}
    assert {"component_version", "plan", "versions"} <= set(events.diffs["model"])
    up = stack.up()
    assert up.summary.resource_changes == {"replace": 1, "same": 1}
    assert _versions(gg) == ["model-defects-jetson-xavier@2.0.0", "model-defects-x86-64-cpu@2.0.0"]
    assert len(_keys(s3)) == 2
    stack.refresh(expect_no_changes=True)


def _disappear(stack: auto.Stack, gg: Any) -> None:
    """A version deleted out of band: refresh drops the resource, up creates it again."""
    arn = stack.outputs()["components"].value["model"]["x86_64-cpu"]["arn"]
    gg.delete_component(arn=arn)
    events = Events()
    stack.refresh(on_event=events)
    assert events.model_ops() == {"model": ["refresh"]}
    urns = [r["urn"] for r in stack.export_stack().deployment["resources"]]
    assert not any(u.endswith("::model") for u in urns)
    events = Events()
    stack.up(on_event=events)
    assert events.model_ops() == {"model": ["create"]}
    assert _versions(gg) == ["model-defects-jetson-xavier@2.0.0", "model-defects-x86-64-cpu@2.0.0"]
    stack.preview(expect_no_changes=True)


def test_a_failed_up_shows_one_line_and_no_traceback(
    new_stack: Callable[..., auto.Stack], model_config: dict[str, Any], s3: Any, tmp_path: Path
) -> None:
    import io
    import tarfile

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        member = tarfile.TarInfo("../escape.so")
        member.size = 4
        tar.addfile(member, io.BytesIO(b"evil"))
    s3.upload_file(str(evil), MODELS, "neo/evil/model.tar.gz")
    model = {
        **model_config,
        "compiledModels": {"x86_64-cpu": f"s3://{MODELS}/neo/evil/model.tar.gz"},
    }
    stack = new_stack("dev", {"model": model, "artifactBucket": ARTIFACTS})
    with pytest.raises(auto.CommandError) as info:
        stack.up()
    shown = str(info.value)
    assert "error: target x86_64-cpu: packaging: s3://ml-models/neo/evil/model.tar.gz:" in shown
    assert "Traceback" not in shown
    assert _keys(s3) == []
