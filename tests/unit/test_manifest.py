"""Phase 1: the DDA manifest from synthetic trained-model archives."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from pulumi_dda import samples
from pulumi_dda.build import read_manifest
from pulumi_dda.errors import ArchiveError, InputError
from pulumi_dda.manifest import build_manifest, read_trained_model
from pulumi_dda.package import ArchiveLimits

GRAPH = samples.SAMPLE_MODEL_GRAPH


def _trained(tmp_path: Path, **kwargs: Any) -> Path:
    return samples.write_trained_model(tmp_path / "trained.tar.gz", **kwargs)


def test_manifest_has_the_contract_keys_order_and_values(tmp_path: Path) -> None:
    export = {"model_graph": GRAPH, "input_shape": [1, 3, 512, 256]}
    config = {"dataset": {"image_width": 640, "image_height": 480}, "other": 1}
    result = read_manifest(str(_trained(tmp_path, export_manifest=export, config=config)))
    assert list(result.manifest) == ["model_graph", "compilable_models", "dataset"]
    assert result.manifest == {
        "model_graph": GRAPH,
        "compilable_models": [
            {
                "filename": "model.pt",
                "data_input_config": {"input": [1, 3, 512, 256]},
                "framework": "PYTORCH",
            }
        ],
        "dataset": {"image_width": 640, "image_height": 480},
    }
    assert result.model_name == "classification"


def test_input_shape_falls_back_to_the_first_stage(tmp_path: Path) -> None:
    graph = json.loads(json.dumps(GRAPH))
    graph["stages"][0]["input_shape"] = [1, 3, 64, 32]
    result = read_manifest(str(_trained(tmp_path, export_manifest={"model_graph": graph})))
    assert result.manifest["compilable_models"][0]["data_input_config"]["input"] == [1, 3, 64, 32]


def test_top_level_input_shape_wins_over_the_stage(tmp_path: Path) -> None:
    export = {"model_graph": GRAPH, "input_shape": [2, 3, 10, 10]}
    result = read_manifest(str(_trained(tmp_path, export_manifest=export)))
    assert result.manifest["compilable_models"][0]["data_input_config"]["input"] == [2, 3, 10, 10]


def _graph(**changes: Any) -> dict[str, Any]:
    graph: dict[str, Any] = json.loads(json.dumps(GRAPH))
    for key, value in changes.items():
        if value is None:
            graph.pop(key, None)
        else:
            graph[key] = value
    return graph


def _stage(**changes: Any) -> dict[str, Any]:
    stage: dict[str, Any] = {"type": "classification", "threshold": 0.5}
    for key, value in changes.items():
        if value is None:
            stage.pop(key)
        else:
            stage[key] = value
    return stage


BAD_EXPORTS = {
    "no model_graph": ({"input_shape": [1, 3, 2, 2]}, "model_graph"),
    "no graph type": ({"model_graph": _graph(model_graph_type=None)}, "model_graph_type"),
    "no stages": ({"model_graph": _graph(stages=None)}, "stages"),
    "empty stages": ({"model_graph": _graph(stages=[])}, "stages"),
    "stage without type": (
        {"model_graph": _graph(stages=[_stage(type=None, input_shape=[1, 3, 2, 2])])},
        "stages[0].type",
    ),
    "no threshold": (
        {"model_graph": _graph(stages=[_stage(threshold=None, input_shape=[1, 3, 2, 2])])},
        "threshold",
    ),
    "no input shape anywhere": ({"model_graph": _graph(stages=[_stage()])}, "input_shape"),
    "three-element shape": (
        {"model_graph": _graph(stages=[_stage()]), "input_shape": [3, 2, 2]},
        "input_shape",
    ),
    "zero in shape": (
        {"model_graph": _graph(stages=[_stage()]), "input_shape": [1, 3, 0, 2]},
        "input_shape",
    ),
    "two stages": (
        {
            "model_graph": _graph(stages=[_stage(), _stage(type="segmentation")]),
            "input_shape": [1, 3, 2, 2],
        },
        "2 stages",
    ),
    "unsafe stage type": (
        {"model_graph": _graph(stages=[_stage(type="../x")]), "input_shape": [1, 3, 2, 2]},
        "cannot name a directory",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_EXPORTS))
def test_missing_device_fields_fail_early_naming_the_field(tmp_path: Path, case: str) -> None:
    export, field = BAD_EXPORTS[case]
    with pytest.raises(InputError, match=r".*") as info:
        read_manifest(str(_trained(tmp_path, export_manifest=export)))
    assert field in str(info.value)
    assert "trained.tar.gz" in str(info.value)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "dataset"),
        ({"dataset": {"image_width": 10}}, "dataset.image_height"),
        ({"dataset": {"image_width": 0, "image_height": 10}}, "dataset.image_width"),
        ({"dataset": {"image_width": "10", "image_height": 10}}, "dataset.image_width"),
        ({"dataset": {"image_width": True, "image_height": 10}}, "dataset.image_width"),
    ],
)
def test_bad_image_dimensions(tmp_path: Path, config: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        read_manifest(str(_trained(tmp_path, config=config)))


@pytest.mark.parametrize("pt_files", [(), ("a.pt", "b.pt")])
def test_exactly_one_pt_file_is_required(tmp_path: Path, pt_files: tuple[str, ...]) -> None:
    with pytest.raises(InputError, match=r"exactly one \.pt"):
        read_manifest(str(_trained(tmp_path, pt_files=pt_files)))


def test_relaxed_checks_accept_what_the_strict_ones_reject(tmp_path: Path) -> None:
    graph = {"stages": [{"type": "classification"}, {"type": "segmentation"}]}
    export = {"model_graph": graph, "input_shape": [3, 224, 224]}
    path = str(_trained(tmp_path, export_manifest=export))
    with pytest.raises(InputError):
        read_manifest(path)
    result = read_manifest(path, relax_device_checks=True)
    assert result.manifest["model_graph"] == graph
    assert result.manifest["compilable_models"][0]["data_input_config"]["input"] == [3, 224, 224]


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class _ReadOnlyStream:
    """A forward-only stream: proves the reader never seeks (as with an S3 body)."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._buf.read(size)
        self.bytes_read += len(data)
        return data


def test_reads_a_forward_only_stream_with_dot_slash_names() -> None:
    data = _tar_bytes(
        {
            "./config.yaml": b"dataset: {image_width: 8, image_height: 6}\n",
            "./export_artifacts/manifest.json": json.dumps(
                {"model_graph": GRAPH, "input_shape": [1, 3, 6, 8]}
            ).encode(),
            "./export_artifacts/net.pt": b"x",
            "./export_artifacts/sub/other.pt": b"ignored: not directly in export_artifacts",
        }
    )
    trained = read_trained_model(_ReadOnlyStream(data), "s3://b/k")
    assert trained.pt_files == ("net.pt",)
    manifest = build_manifest(trained, "s3://b/k").manifest
    assert manifest["compilable_models"][0]["filename"] == "net.pt"
    assert manifest["dataset"] == {"image_width": 8, "image_height": 6}


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"export_artifacts/manifest.json": b"{}"}, "config.yaml not found"),
        ({"config.yaml": b"a: 1"}, "manifest.json not found"),
        ({"config.yaml": b"[1, 2", "export_artifacts/manifest.json": b"{}"}, "not valid YAML"),
        ({"config.yaml": b"a: 1", "export_artifacts/manifest.json": b"{"}, "not valid JSON"),
    ],
)
def test_missing_or_broken_members(members: dict[str, bytes], message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_trained_model(_ReadOnlyStream(_tar_bytes(members)), "trained")


def test_not_an_archive() -> None:
    with pytest.raises(ArchiveError, match="not a readable"):
        read_trained_model(_ReadOnlyStream(b"plain text, not a tar"), "trained")


def test_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_manifest(str(tmp_path / "absent.tar.gz"))


class _ZeroReader:
    """``size`` zero bytes, produced on demand (a bomb's payload, never in memory at once)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


class _Trickle(io.BytesIO):
    """A source that gives at most 4 KiB per read, as a network body may: what is left unread
    then shows what the reader did not need."""

    def read(self, size: int | None = -1, /) -> bytes:
        return super().read(4096 if size is None or size < 0 else min(size, 4096))


def test_a_compressed_bomb_is_refused_at_its_header_before_decompressing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    with tarfile.open(bomb, "w:gz") as tar:
        info = tarfile.TarInfo("weights.bin")
        info.size = 64 * 1024 * 1024
        tar.addfile(info, _ZeroReader(info.size))  # type: ignore[arg-type]
    compressed = bomb.read_bytes()
    assert len(compressed) < 1024 * 1024  # it really is a bomb: tiny compressed
    stream = _Trickle(compressed)
    with pytest.raises(ArchiveError, match=r"over the 1048576-byte cap .*archive_limits"):
        read_trained_model(stream, str(bomb), limits=ArchiveLimits(max_total_bytes=1024 * 1024))
    assert stream.tell() < len(compressed) // 2  # refused at the header, data left unread


def test_the_member_cap_applies_to_the_trained_model(tmp_path: Path) -> None:
    path = samples.write_trained_model(tmp_path / "t.tar.gz")
    with path.open("rb") as stream, pytest.raises(ArchiveError, match="more than 3 members"):
        read_trained_model(stream, str(path), limits=ArchiveLimits(max_members=3))
    with path.open("rb") as stream:  # the default caps take it
        assert read_trained_model(stream, str(path)).pt_files == ("model.pt",)


def test_manifest_bytes_are_the_same_after_a_round_trip_through_pulumi_state(
    tmp_path: Path,
) -> None:
    """State keeps objects as protobuf Structs: keys sorted, every number a float."""
    from google.protobuf import json_format, struct_pb2

    from pulumi_dda.manifest import manifest_bytes

    fresh = read_manifest(str(samples.write_trained_model(tmp_path / "t.tar.gz"))).manifest
    struct = struct_pb2.Struct()
    struct.update(fresh)
    from_state = json_format.MessageToDict(struct)
    assert from_state["compilable_models"][0]["data_input_config"]["input"] == [
        1.0,
        3.0,
        224.0,
        224.0,
    ]
    assert manifest_bytes(from_state) == manifest_bytes(fresh)
    written = json.loads(manifest_bytes(fresh))
    assert list(written) == ["model_graph", "compilable_models", "dataset"]
    assert written["dataset"] == {"image_height": 224, "image_width": 224}
