"""The ``pulumi-dda`` CLI, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pulumi_dda import samples


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulumi_dda.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, Path]:
    return {
        "trained": samples.write_trained_model(tmp_path / "in" / "trained.tar.gz"),
        "x86": samples.write_compiled_model(tmp_path / "in" / "x86.tar.gz", seed=1),
        "arm": samples.write_compiled_model(
            tmp_path / "in" / "arm.tar.gz", seed=2, target="jetson-xavier"
        ),
    }


def _build_args(artifacts: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "build",
        "--trained", str(artifacts["trained"]),
        "--compiled", f"x86_64-cpu={artifacts['x86']}",
        "--compiled", f"jetson-xavier={artifacts['arm']}",
        "--component-name", "model-defects",
        "--component-version", "2.0.0",
        "--friendly-name", "Defects",
        "--bucket", "edge-artifacts",
        "--prefix", "dda/",
        "--out", str(out),
        *extra,
    ]  # fmt: skip


def test_manifest_command_prints_the_manifest(artifacts: dict[str, Path]) -> None:
    result = _cli("manifest", str(artifacts["trained"]))
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert list(manifest) == ["model_graph", "compilable_models", "dataset"]


def test_build_writes_zips_recipes_and_a_summary(
    artifacts: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _cli(*_build_args(artifacts, out))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["components"]) == {"x86_64-cpu", "jetson-xavier"}
    x86 = summary["components"]["x86_64-cpu"]
    assert set(x86) == {
        "component_name", "component_version", "platform", "local_server_component",
        "package_id", "artifact_uri", "digest", "zip_path", "recipe_path",
    }  # fmt: skip
    assert x86["component_name"] == "model-defects-x86-64-cpu"
    assert x86["platform"] == "amd64"
    assert x86["artifact_uri"] == (
        f"s3://edge-artifacts/dda/model_artifacts/model-{x86['package_id']}/"
        f"{x86['package_id']}_greengrass_model_component.zip"
    )
    zip_path = Path(x86["zip_path"])
    assert zip_path.parent == out / "x86_64-cpu"
    assert zipfile.ZipFile(zip_path).namelist()[0] == "manifest.json"
    recipe = json.loads(Path(x86["recipe_path"]).read_text())
    assert recipe["Manifests"][0]["Artifacts"][0]["Digest"] == x86["digest"]
    assert recipe["ComponentConfiguration"]["DefaultConfiguration"]["ModelName"] == (
        "Defects (x86_64-cpu)"
    )
    again = _cli(*_build_args(artifacts, tmp_path / "again", "--workers", "1"))

    def digests(output: str) -> dict[str, str]:
        return {t: c["digest"] for t, c in json.loads(output)["components"].items()}

    assert digests(again.stdout) == digests(result.stdout)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--component-version", "0.0.0"], "component_version '0.0.0'"),
        (["--component-name", "defects"], "component_name 'defects'"),
        (["--compiled", "tpu=x.tar.gz"], "unknown compilation target 'tpu'"),
        (["--no-target-suffix"], "exactly one compiled model"),
        (["--bucket", "Bad_Bucket"], "artifact_bucket"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_input_errors_exit_1_with_one_line(
    artifacts: dict[str, Path], tmp_path: Path, extra: list[str], needle: str
) -> None:
    result = _cli(*_build_args(artifacts, tmp_path / "out"), *extra)
    assert result.returncode == 1
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.zip"))


def test_missing_member_names_the_archive_and_member(tmp_path: Path) -> None:
    bad = samples.write_trained_model(tmp_path / "t.tar.gz", config={"nodataset": 1})
    result = _cli("manifest", str(bad))
    assert result.returncode == 1
    assert str(bad) in result.stderr
    assert "dataset" in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = _cli("--debug", "manifest", str(tmp_path / "absent.tar.gz"))
    assert result.returncode == 1
    assert "Traceback" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["build", "--trained", "t.tar.gz"],
        ["build", "--compiled", "no-equals-sign"],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert _cli(*args).returncode == 2


def test_samples_then_build_on_them(tmp_path: Path) -> None:
    written = json.loads(_cli("samples", "--out", str(tmp_path / "s")).stdout)
    assert set(written) == {"trained", "x86_64-cpu", "jetson-xavier"}
    result = _cli(
        *_build_args(
            {"trained": Path(written["trained"]), "x86": Path(written["x86_64-cpu"]),
             "arm": Path(written["jetson-xavier"])},
            tmp_path / "out",
        )
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert _cli("samples", "--out", str(tmp_path / "t"), "--target", "tpu").returncode == 1


def test_a_trained_model_given_as_a_compiled_model_is_refused(
    artifacts: dict[str, Path], tmp_path: Path
) -> None:
    mixed_up = {**artifacts, "arm": artifacts["trained"]}
    result = _cli(*_build_args(mixed_up, tmp_path / "out"))
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]  # after the progress lines
    assert "member 'config.yaml' is a trained model's" in error
    assert str(artifacts["trained"]) in error
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.zip"))


def test_a_compiled_model_for_another_target_is_refused(
    artifacts: dict[str, Path], tmp_path: Path
) -> None:
    mixed_up = {**artifacts, "arm": artifacts["x86"]}  # an ml_c5 model given as jetson-xavier's
    result = _cli(*_build_args(mixed_up, tmp_path / "out"))
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]  # after the progress lines
    assert error.endswith(
        f"{artifacts['x86']}: compiled.meta says it was compiled for TargetDevice 'ml_c5', "
        "not for target jetson-xavier: give the compilation job's output for jetson-xavier"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.zip"))


def test_samples_declare_their_target(tmp_path: Path) -> None:
    out = tmp_path / "s"
    result = _cli(
        "samples", "--out", str(out), "--target", "jetson-xavier", "--target", "x86_64-cpu"
    )
    assert result.returncode == 0, result.stderr
    build = _cli(
        *_build_args(
            {"trained": out / "trained" / "model.tar.gz",
             "x86": out / "x86_64-cpu" / "model.tar.gz",
             "arm": out / "jetson-xavier" / "model.tar.gz"},
            tmp_path / "out",
        )
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
