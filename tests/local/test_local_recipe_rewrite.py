"""GetComponent returns the recipe the service rewrote at create time, never the bytes sent."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from dda_local_helpers import recipe

PARSERS: dict[str, Callable[[bytes], Any]] = {"JSON": json.loads, "YAML": yaml.safe_load}


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def bare_recipe(uri: str) -> dict[str, Any]:
    """No ComponentType, no Lifecycle, an artifact spelled ``URI`` without any defaults."""
    body = recipe()
    body["Manifests"][0]["Artifacts"] = [{"URI": uri}]
    return body


def assert_keys_sorted(value: Any) -> None:
    if isinstance(value, dict):
        assert list(value) == sorted(value)
        for item in value.values():
            assert_keys_sorted(item)
    elif isinstance(value, list):
        for item in value:
            assert_keys_sorted(item)


@pytest.mark.parametrize("output_format", ["JSON", "YAML"])
def test_get_component_fills_defaults_and_spells_uri(
    gg: Any,
    component: Callable[..., dict[str, Any]],
    artifact: Callable[..., str],
    output_format: str,
) -> None:
    uri = artifact(body=b"model bytes")
    sent = bare_recipe(uri)
    arn = component(sent)["arn"]
    got = gg.get_component(arn=arn, recipeOutputFormat=output_format)
    assert got["recipeOutputFormat"] == output_format
    assert got["recipe"] != json.dumps(sent).encode()
    assert got["recipe"].lstrip().startswith(b"{") is (output_format == "JSON")
    stored = PARSERS[output_format](got["recipe"])
    assert stored["ComponentType"] == "aws.greengrass.generic"
    assert stored["Lifecycle"] == {}
    assert stored["Manifests"][0]["Artifacts"] == [
        {
            "Algorithm": "SHA-256",
            "Digest": sha256_b64(b"model bytes"),
            "Permission": {"Execute": "NONE", "Read": "OWNER"},
            "Unarchive": "NONE",
            "Uri": uri,
        }
    ]
    assert_keys_sorted(stored)
    assert set(stored) == set(sent) | {"ComponentType", "Lifecycle"}
    assert all(stored[key] == value for key, value in sent.items() if key != "Manifests")
    assert stored["Manifests"][0]["Platform"] == {"os": "linux"}


def test_values_the_client_set_are_kept(
    gg: Any, component: Callable[..., dict[str, Any]], artifact: Callable[..., str]
) -> None:
    uri = artifact()
    body = recipe(
        artifacts=[uri],
        ComponentType="aws.greengrass.generic",
        Lifecycle={"install": {"Script": "echo hi"}},
    )
    body["Manifests"][0]["Artifacts"][0].update(Unarchive="ZIP", Permission={"Read": "ALL"})
    arn = component(body)["arn"]
    stored = json.loads(gg.get_component(arn=arn)["recipe"])
    assert stored["Lifecycle"] == {"install": {"Script": "echo hi"}}
    stored_artifact = stored["Manifests"][0]["Artifacts"][0]
    assert stored_artifact["Unarchive"] == "ZIP"
    assert stored_artifact["Permission"] == {"Execute": "NONE", "Read": "ALL"}


def test_yaml_sent_json_returned_is_rewritten_too(gg: Any, artifact: Callable[..., str]) -> None:
    uri = artifact()
    text = yaml.safe_dump(bare_recipe(uri)).encode()
    arn = gg.create_component_version(inlineRecipe=text)["arn"]
    stored = json.loads(gg.get_component(arn=arn, recipeOutputFormat="JSON")["recipe"])
    assert stored["ComponentType"] == "aws.greengrass.generic"
    assert [set(a) for a in stored["Manifests"][0]["Artifacts"]] == [
        {"Algorithm", "Digest", "Permission", "Unarchive", "Uri"}
    ]
