"""The LocalServer stand-ins seeded into the local endpoint (pulumi_dda.local.local_server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pulumi_dda.local import local_server
from pulumi_dda.recipe import TARGETS


def test_seeds_both_platforms_deployable_with_the_platform_each_target_needs(gg: Any) -> None:
    arns = local_server.seed_local_servers(gg)
    needed = {t.local_server_component: t.architecture for t in TARGETS.values()}
    assert set(arns) == set(needed)
    for name, arn in arns.items():
        described = gg.describe_component(arn=arn)
        assert described["componentName"] == name
        assert described["componentVersion"] == "1.0.0"
        assert described["status"]["componentState"] == "DEPLOYABLE"
        recipe = json.loads(gg.get_component(arn=arn, recipeOutputFormat="JSON")["recipe"])
        (manifest,) = recipe["Manifests"]
        assert manifest["Platform"] == {"os": "linux", "architecture": needed[name]}
        assert "Artifacts" not in manifest


def test_seeding_again_finds_the_same_versions(gg: Any) -> None:
    first = local_server.seed_local_servers(gg)
    assert local_server.seed_local_servers(gg) == first
    versions = gg.list_component_versions(
        arn=first["aws.edgeml.dda.LocalServer.amd64"].rsplit(":versions:", 1)[0]
    )
    assert [v["componentVersion"] for v in versions["componentVersions"]] == ["1.0.0"]


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(ValueError, match="x86"):
        local_server.local_server_recipe("x86")
