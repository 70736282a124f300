"""The repository's Pulumi.yaml names the dda plugin so that the engine finds it (what `make
demo` runs): a `packages:` value is a local folder only when it starts with ``./``, ``../`` or
``/`` — a bare ``provider/...`` is read as a package name and the plugin is not found."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_the_plugin_is_named_by_an_explicit_local_path_that_exists() -> None:
    packages = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["packages"]
    assert set(packages) == {"dda"}
    path = packages["dda"]
    assert path.startswith(("./", "../", "/")), path
    assert (REPO / path / "PulumiPlugin.yaml").is_file()
