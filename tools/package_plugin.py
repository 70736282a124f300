"""Build the versioned ``dda`` provider plugin artifact, installable outside this checkout.

    uv run python tools/package_plugin.py [--out dist] [--wheel WHEEL]

Writes, into ``--out``:

- ``pulumi_dda-<version>-py3-none-any.whl`` (``uv build --wheel``, unless ``--wheel`` names one);
- ``pulumi-resource-dda-v<version>-<os>-<arch>.tar.gz`` for each platform a release publishes
  (:data:`PLATFORMS`; the same bytes under each name, the plugin is pure Python): what
  ``pulumi plugin install resource dda <version> --file <artifact>`` installs, and the file name
  the engine asks ``pluginDownloadURL`` for.

The archive is a Python plugin folder of its own: ``PulumiPlugin.yaml`` (runtime python,
toolchain uv) and ``__main__.py`` from ``provider/pulumi-resource-dda``; a ``pyproject.toml``
(project ``pulumi-resource-dda``, the same version) whose one dependency is that wheel, shipped in
``wheels/``; and its ``uv.lock``, resolved here from the package index. ``pulumi plugin install``
has the Python language host run ``uv sync`` in the installed folder, which makes its own
``.venv`` there from that lock: nothing refers to this checkout. The version is pulumi-dda's
(``pyproject.toml``), the one source of the wheel's, the plugin's and the schema's versions.
The archive is reproducible: sorted members, fixed times and owners.
"""

from __future__ import annotations

import argparse
import gzip
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN_DIR = REPO / "provider" / "pulumi-resource-dda"
PLATFORMS = ("linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64")
"""What a release publishes: the engine downloads ``…-<os>-<arch>.tar.gz`` for its machine."""
EPOCH = 315532800  # 1980-01-01, the earliest time a wheel's zip can hold


def version() -> str:
    """pulumi-dda's version, from ``pyproject.toml``."""
    with (REPO / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def artifact_name(ver: str, platform: str = "linux-amd64") -> str:
    return f"pulumi-resource-dda-v{ver}-{platform}.tar.gz"


def plugin_pyproject(ver: str, wheel: str) -> str:
    return f"""# The pulumi-dda provider plugin (package `dda`), as installed by
# `pulumi plugin install resource dda {ver} --file <artifact>`: its own project, whose
# environment (.venv here, made by `uv sync` from uv.lock) holds the pulumi-dda wheel below.
[project]
name = "pulumi-resource-dda"
version = "{ver}"
requires-python = ">=3.11"
dependencies = ["pulumi-dda=={ver}"]

[tool.uv]
package = false

[tool.uv.sources]
pulumi-dda = {{ path = "wheels/{wheel}" }}
"""


def build_wheel(out: Path) -> Path:
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(out), str(REPO)],
        check=True,
        stdout=sys.stderr,
    )
    return next(out.glob(f"pulumi_dda-{version()}-*.whl"))


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, EPOCH
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def package(out: Path, wheel: Path | None = None) -> list[Path]:
    """Build the wheel (unless given) and the plugin archives; returns the archives."""
    ver = version()
    out.mkdir(parents=True, exist_ok=True)
    wheel = wheel or build_wheel(out)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        (stage / "wheels").mkdir()
        shutil.copy2(wheel, stage / "wheels" / wheel.name)
        (stage / "pyproject.toml").write_text(plugin_pyproject(ver, wheel.name))
        for name in ("PulumiPlugin.yaml", "__main__.py"):
            shutil.copy2(PLUGIN_DIR / name, stage / name)
        subprocess.run(["uv", "lock", "--quiet"], cwd=stage, check=True, stdout=sys.stderr)
        members = ["PulumiPlugin.yaml", "__main__.py", "pyproject.toml", "uv.lock"]
        members.append(f"wheels/{wheel.name}")
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(members):
                _add(tar, name, (stage / name).read_bytes())
    data = gzip.compress(raw.getvalue(), mtime=0)
    archives = []
    for platform in PLATFORMS:
        path = out / artifact_name(ver, platform)
        path.write_bytes(data)
        archives.append(path)
    return archives


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    parser.add_argument("--wheel", type=Path, help="a built pulumi-dda wheel (default: build it)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    args = parser.parse_args(argv)
    if args.version:
        print(version())
        return
    for path in package(args.out.resolve(), args.wheel):
        print(path)


if __name__ == "__main__":
    main()
