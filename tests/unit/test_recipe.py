"""Phase 3: names, versions, targets and the exact recipe."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_dda.errors import InputError
from pulumi_dda.recipe import (
    TARGETS,
    ComponentNaming,
    build_recipe,
    name_components,
    platform_for,
    recipe_json,
    validate_component_name,
    validate_component_version,
)


@pytest.mark.parametrize(
    ("target", "arch", "server"),
    [
        ("jetson-xavier", "aarch64", "aws.edgeml.dda.LocalServer.arm64"),
        ("arm64-cpu", "aarch64", "aws.edgeml.dda.LocalServer.arm64"),
        ("x86_64-cpu", "amd64", "aws.edgeml.dda.LocalServer.amd64"),
        ("x86_64-cuda", "amd64", "aws.edgeml.dda.LocalServer.amd64"),
    ],
)
def test_platform_mapping(target: str, arch: str, server: str) -> None:
    platform = platform_for(target)
    assert (platform.architecture, platform.local_server_component) == (arch, server)


def test_unknown_target_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as info:
        platform_for("rasp3b")
    assert "'rasp3b'" in str(info.value)
    for target in TARGETS:
        assert target in str(info.value)


@pytest.mark.parametrize("version", ["1.0.0", "2.0.0", "10.0.0", "123.0.0"])
def test_valid_versions(version: str) -> None:
    assert validate_component_version(version) == int(version.split(".", maxsplit=1)[0])


@pytest.mark.parametrize(
    "version", ["0.0.0", "1.00.00", "1.0.1", "1.1.0", "01.0.0", "1.0", "v1.0.0", "", "1.0.0-rc"]
)
def test_invalid_versions(version: str) -> None:
    with pytest.raises(InputError, match=r"N\.0\.0"):
        validate_component_version(version)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("defects", "must start with 'model-'"),
        ("aws.greengrass.model-x", "must start with 'model-'"),
        ("model-" + "x" * 123, "limit is 128"),
        ("model-a b", "only letters"),
        ("model-ä", "only letters"),
    ],
)
def test_invalid_names(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_component_name(name)


def test_name_at_the_length_limit() -> None:
    assert validate_component_name("model-" + "x" * 122) == "model-" + "x" * 122


def test_per_target_naming() -> None:
    names = name_components(
        "model-defects", ["x86_64-cpu", "jetson-xavier"], friendly_name="Defects"
    )
    assert names == {
        "jetson-xavier": ComponentNaming(
            "jetson-xavier", "model-defects-jetson-xavier", "Defects (jetson-xavier)"
        ),
        "x86_64-cpu": ComponentNaming(
            "x86_64-cpu", "model-defects-x86-64-cpu", "Defects (x86_64-cpu)"
        ),
    }


def test_friendly_name_defaults_to_the_component_name() -> None:
    names = name_components("model-d", ["arm64-cpu"])
    assert names["arm64-cpu"].friendly_name == "model-d (arm64-cpu)"


def test_no_suffix_means_exact_names_and_one_target() -> None:
    names = name_components("model-d", ["arm64-cpu"], friendly_name="D", target_suffix=False)
    assert names == {"arm64-cpu": ComponentNaming("arm64-cpu", "model-d", "D")}
    with pytest.raises(InputError, match="exactly one compiled model"):
        name_components("model-d", ["arm64-cpu", "x86_64-cpu"], target_suffix=False)


def test_suffix_that_overflows_the_limit_names_the_target() -> None:
    with pytest.raises(InputError, match="target jetson-xavier"):
        name_components("model-" + "x" * 115, ["jetson-xavier"])


def test_no_targets_and_unknown_targets() -> None:
    with pytest.raises(InputError, match="at least one"):
        name_components("model-d", [])
    with pytest.raises(InputError, match="unknown compilation target"):
        name_components("model-d", ["x86_64-cpu", "tpu"])


def test_exact_recipe() -> None:
    naming = ComponentNaming("jetson-xavier", "model-d-jetson-xavier", "D (jetson-xavier)")
    recipe = build_recipe(
        naming, "3.0.0", "s3://b/k/abc_greengrass_model_component.zip", "ZGlnZXN0",
        "abc_greengrass_model_component.zip",
    )  # fmt: skip
    root = {"requiresPrivilege": True, "runWith": {"posixUser": "root"}}
    assert recipe == {
        "RecipeFormatVersion": "2020-01-25",
        "ComponentName": "model-d-jetson-xavier",
        "ComponentVersion": "3.0.0",
        "ComponentType": "aws.greengrass.generic",
        "ComponentPublisher": "Amazon Lookout for Vision",
        "ComponentConfiguration": {
            "DefaultConfiguration": {
                "Autostart": False,
                "PYTHONPATH": "/usr/bin/python3.9",
                "ModelName": "D (jetson-xavier)",
            }
        },
        "ComponentDependencies": {
            "aws.edgeml.dda.LocalServer.arm64": {
                "VersionRequirement": "^1.0.0",
                "DependencyType": "HARD",
            }
        },
        "Manifests": [
            {
                "Platform": {"os": "linux", "architecture": "aarch64"},
                "Lifecycle": {
                    "Startup": {
                        "Script": "python3 /aws_dda/model_convertor.py --unarchived_model_path "
                        "{artifacts:decompressedPath}/abc_greengrass_model_component/ "
                        "--model_version 3.0.0 --model_name model-d-jetson-xavier",
                        "Timeout": 900,
                        **root,
                    },
                    "Shutdown": {
                        "Script": "python3 /aws_dda/convert_model_cleanup.py "
                        "--model_name model-d-jetson-xavier",
                        "Timeout": 900,
                        **root,
                    },
                },
                "Artifacts": [
                    {
                        "Uri": "s3://b/k/abc_greengrass_model_component.zip",
                        "Digest": "ZGlnZXN0",
                        "Algorithm": "SHA-256",
                        "Unarchive": "ZIP",
                        "Permission": {"Read": "ALL", "Execute": "ALL"},
                    }
                ],
            }
        ],
        "Lifecycle": {},
    }
    text = recipe_json(recipe)
    assert json.loads(text) == recipe
    assert list(json.loads(text)) == list(recipe)
    assert text.startswith('{"RecipeFormatVersion":"2020-01-25","ComponentName":')


@given(
    major=st.integers(min_value=1, max_value=10**6),
    target=st.sampled_from(sorted(TARGETS)),
    suffix=st.text(alphabet="abc-_.019", min_size=1, max_size=20),
)
def test_property_recipe_is_deterministic_and_consistent(
    major: int, target: str, suffix: str
) -> None:
    names = name_components(f"model-{suffix}", [target])
    version = f"{major}.0.0"
    one = recipe_json(build_recipe(names[target], version, "s3://b/k.zip", "d", "k.zip"))
    two = recipe_json(build_recipe(names[target], version, "s3://b/k.zip", "d", "k.zip"))
    assert one == two
    recipe = json.loads(one)
    assert recipe["ComponentName"] == names[target].component_name
    assert recipe["Manifests"][0]["Platform"]["architecture"] == platform_for(target).architecture
    assert list(recipe["ComponentDependencies"]) == [platform_for(target).local_server_component]
    assert f"--model_version {version} " in recipe["Manifests"][0]["Lifecycle"]["Startup"]["Script"]
