"""The ``dda`` package schema: its snapshot, its completeness, and the translation at the edge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_dda import deployment, model_component
from pulumi_dda.errors import InputError
from pulumi_dda.plugin import schema, server

SNAPSHOT = Path(__file__).resolve().parents[2] / "provider" / "pulumi-resource-dda" / "schema.json"
REGENERATE = (
    "uv run python -m pulumi_dda.plugin --schema > provider/pulumi-resource-dda/schema.json "
    "(then make examples regenerates the TypeScript SDK)"
)


def test_the_published_schema_is_the_snapshot() -> None:
    assert json.loads(SNAPSHOT.read_text()) == schema.package_schema(), REGENERATE


def _described(spec: dict[str, Any], where: str) -> list[str]:
    return [f"{where}.{name}" for name, prop in spec.items() if not prop.get("description")]


def test_every_property_has_a_description_and_every_resource_one() -> None:
    published = schema.package_schema()
    missing = _described(published["config"]["variables"], "config")
    missing += _described(published["provider"]["inputProperties"], "provider")
    for token, spec in {**published["resources"], **published["types"]}.items():
        assert spec["description"], token
        missing += _described(spec.get("properties", {}), token)
        missing += [f"{token}.{v['value']}" for v in spec.get("enum", []) if not v["description"]]
        missing += _described(spec.get("inputProperties", {}), f"{token} input")
    assert missing == []


def test_every_default_is_one_the_metaschema_allows() -> None:
    """Pulumi's metaschema allows only booleans, numbers and strings as a property's default;
    the SDK generators refuse a schema with another (a list's default was one)."""
    published = schema.package_schema()
    found = [
        (token, name, spec["default"])
        for token, resource in published["resources"].items()
        for name, spec in resource["inputProperties"].items()
        if "default" in spec
    ]
    assert found
    assert [f for f in found if not isinstance(f[2], bool | int | float | str)] == []


def test_outputs_are_the_providers_own_and_typed() -> None:
    assert {p.snake for p in schema.DEPLOYMENT.outputs} == {
        *deployment.OUTPUT_KEYS,
        "revision_count",
        "rollout_result",
        "stage_deployments",
        *deployment.CHECK_FILLED,
    }
    assert {p.snake for p in schema.MODEL.outputs} <= {*model_component.INPUT_KEYS, "components"}
    model = schema.package_schema()["resources"][schema.MODEL_COMPONENT]
    assert model["properties"]["versions"] == {
        "type": "object",
        "additionalProperties": {"$ref": "#/types/dda:index:ComponentVersion"},
        "description": model["properties"]["versions"]["description"],
    }
    assert set(model["requiredInputs"]) == {
        "componentName",
        "trainedModelUri",
        "compiledModels",
        "artifactBucket",
    }


def test_translation_is_camel_case_at_the_edge_only() -> None:
    camel = {
        "componentName": "model-defects",
        "compiledModels": {"x86_64-cpu": "s3://m/x.tar.gz"},
        "tags": {"cost_center": "vision"},
        "versions": {"x86_64-cpu": {"componentName": "model-defects-x86-64-cpu"}},
        "manifest": {"model_graph": {"stages": []}},
        "checked_versions": {"x86_64-cpu": {"component_name": "kept as it is"}},
    }
    snake = schema.to_provider(schema.MODEL, camel)
    assert snake == {
        **schema.with_defaults(schema.MODEL, {}),  # what the hooks read for an absent input
        "component_name": "model-defects",
        "compiled_models": {"x86_64-cpu": "s3://m/x.tar.gz"},  # map keys are data
        "tags": {"cost_center": "vision"},
        "versions": {"x86_64-cpu": {"component_name": "model-defects-x86-64-cpu"}},
        "manifest": {"model_graph": {"stages": []}},  # Any: the DDA manifest as it is
        "checked_versions": {"x86_64-cpu": {"component_name": "kept as it is"}},  # internal
    }
    assert schema.from_provider(schema.MODEL, snake) == {
        **camel,
        "targetSuffix": True,  # real defaults stay; placeholders are left out
        "relaxDeviceChecks": False,
    }

    components = {"c": {"componentVersion": "1.0.0", "configurationUpdate": {"reset": ["/a"]}}}
    policies = {
        "failureHandlingPolicy": "DO_NOTHING",
        "componentUpdatePolicy": {"timeoutInSeconds": 5, "action": "NOTIFY_COMPONENTS"},
    }
    snake = schema.to_provider(
        schema.DEPLOYMENT,
        {"components": components, "deploymentPolicies": policies, "tags": {"a": "b"}},
    )
    assert snake == {
        **schema.with_defaults(schema.DEPLOYMENT, {}),
        "components": {
            "c": {"component_version": "1.0.0", "configuration_update": {"reset": ["/a"]}}
        },
        "deployment_policies": policies,  # typed, but the API's own shape
        "tags": {"a": "b"},
    }


def test_archive_limits_are_typed_and_camel_case_in_the_schema() -> None:
    """``archiveLimits`` takes ``maxMembers``; the provider reads ``max_members``; a state written
    before the type existed (snake_case keys) reads the same."""
    camel = {"componentName": "model-x", "archiveLimits": {"maxMembers": 5, "maxTotalBytes": 9}}
    snake = schema.to_provider(schema.MODEL, camel)
    assert snake["archive_limits"] == {"max_members": 5, "max_total_bytes": 9}
    assert schema.from_provider(schema.MODEL, snake)["archiveLimits"] == camel["archiveLimits"]
    old_state = {"componentName": "model-x", "archiveLimits": {"max_members": 5}}
    assert schema.to_provider(schema.MODEL, old_state)["archive_limits"] == {"max_members": 5}
    assert schema.unknown_keys(schema.MODEL, {"archiveLimits": {"max_members": 5}}) == [
        (
            "archiveLimits",
            "archiveLimits: unknown keys ['max_members'] "
            "(allowed: ['maxCompressionRatio', 'maxMembers', 'maxTotalBytes'])",
        )
    ]


def test_enum_values_are_checked_where_the_schema_declares_them() -> None:
    policies = {
        "failureHandlingPolicy": "ROLL_BACK",
        "componentUpdatePolicy": {"action": "NOTIFY_COMPONENTS"},
    }
    job = {
        "abortConfig": {
            "criteriaList": [
                {
                    "failureType": "ALL",
                    "action": "STOP",
                    "thresholdPercentage": 10,
                    "minNumberOfExecutedThings": 1,
                }
            ]
        }
    }
    found = schema.unknown_keys(
        schema.DEPLOYMENT,
        {
            "deploymentPolicies": policies,
            "iotJobConfiguration": job,
            "rollout": {"onFailure": "retry"},
        },
    )
    assert found == [
        (
            "deploymentPolicies",
            "deploymentPolicies.failureHandlingPolicy: 'ROLL_BACK' is not one of "
            "['ROLLBACK', 'DO_NOTHING']",
        ),
        (
            "iotJobConfiguration",
            "iotJobConfiguration.abortConfig.criteriaList[0].action: 'STOP' is not one of "
            "['CANCEL']",
        ),
        ("rollout", "rollout.onFailure: 'retry' is not one of ['fail', 'revert']"),
    ]
    unknown = {"failureHandlingPolicy": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    assert schema.unknown_keys(schema.DEPLOYMENT, {"deploymentPolicies": unknown}) == []


def test_optional_inputs_are_absent_when_unset_and_document_their_default() -> None:
    """A placeholder default never reaches the schema or the checked inputs; every optional
    input's description says its real default; replacing inputs say so."""
    published = schema.package_schema()
    for resource in schema.RESOURCES.values():
        spec = published["resources"][resource.token]
        for prop in resource.inputs:
            entry = spec["inputProperties"][prop.name]
            if not prop.required:
                assert "Default: " in entry["description"], (resource.token, prop.name)
            real = prop.default is not None and not prop.placeholder
            assert ("default" in entry) == (real and not isinstance(prop.default, dict))
            assert entry.get("replaceOnChanges", False) == (prop.change == "replace")
    model = published["resources"][schema.MODEL_COMPONENT]["inputProperties"]
    assert "default" not in model["waitTimeoutSeconds"]
    assert model["waitTimeoutSeconds"]["description"].endswith("Default: 900.")
    checked = schema.with_defaults(schema.MODEL, {"component_name": "model-x"})
    assert schema.from_provider(schema.MODEL, checked) == {
        "componentName": "model-x",
        "targetSuffix": True,
        "relaxDeviceChecks": False,
        "tags": {},  # a real default: no tags
    }
    # a state an earlier release wrote, placeholders included, reads as the same inputs
    old = {"componentName": "model-x", "componentVersion": "", "waitTimeoutSeconds": 0}
    assert schema.to_provider(schema.MODEL, old) == checked
    assert schema.to_provider(schema.MODEL, {}) == {}


def test_the_rollout_policy_documents_the_providers_defaults() -> None:
    from pulumi_dda import properties, rollout

    documented = {p.snake: p.documented for p in properties.ROLLOUT_POLICY.props}
    defaults = rollout.RolloutPolicy()
    for key in ("success_percent", "timeout_seconds"):
        assert float(documented[key]) == getattr(defaults, key)
    assert documented["on_failure"] == f"`{defaults.on_failure}`"
    assert documented["ignore_unhealthy"] == f"`{str(defaults.ignore_unhealthy).lower()}`"
    assert properties.ROLLOUT_FAILURE_ACTION.allowed() == list(rollout.ON_FAILURE)


def test_defaults_fill_what_the_program_left_out() -> None:
    filled = schema.with_defaults(schema.MODEL, {"component_name": "model-x", "region": None})
    assert filled == {
        "component_name": "model-x",
        "component_version": "",
        "artifact_prefix": "",
        "friendly_name": "",
        "target_suffix": True,
        "tags": {},
        "role_arn": "",
        "region": "",
        "relax_device_checks": False,
        "wait_timeout_seconds": 0,
        "archive_limits": {},
    }


@pytest.mark.parametrize(
    ("provider_text", "schema_text"),
    [
        ("compiled_models.x86_64-cpu", "compiledModels.x86_64-cpu"),
        (
            "component_version 1.0.0 is already published (compiled_models.jetson-xavier "
            "changed): bump component_version to 2.0.0",
            "componentVersion 1.0.0 is already published (compiledModels.jetson-xavier "
            "changed): bump componentVersion to 2.0.0",
        ),
        (
            "components.aws.greengrass.Nucleus.configuration_update.merge is not valid JSON",
            "components.aws.greengrass.Nucleus.configurationUpdate.merge is not valid JSON",
        ),
        ("model_graph.model_graph_type is missing", "model_graph.model_graph_type is missing"),
        ("s3://b/my_trained_model_uri_x", "s3://b/my_trained_model_uri_x"),
        (
            "no AWS region configured: set the stack config aws:region, the resource's region",
            "no AWS region configured: set the stack config dda:region, the resource's region",
        ),
    ],
)
def test_messages_name_the_schema_properties(provider_text: str, schema_text: str) -> None:
    assert schema.schema_names(provider_text) == schema_text
    assert schema.provider_names(schema_text) == provider_text


def test_keys_a_typed_object_does_not_declare_are_refused_by_name() -> None:
    components = {
        "a": {"component_version": "1.0.0"},
        "b": {"componentVersion": "1.0.0", "configurationUpdate": {"merge": "{}", "rest": []}},
    }
    assert schema.unknown_keys(schema.DEPLOYMENT, {"components": components}) == [
        (
            "components",
            "components.a: unknown keys ['component_version'] "
            "(allowed: ['componentVersion', 'configurationUpdate'])",
        ),
        (
            "components",
            "components.b.configurationUpdate: unknown keys ['rest'] (allowed: ['merge', 'reset'])",
        ),
    ]
    assert schema.unknown_keys(schema.DEPLOYMENT, {"components": {"a": "<unknown>"}}) == []


def test_owner_is_the_python_resources_owner() -> None:
    urn = "urn:pulumi:prod::factory::dda:index:ModelComponent::defects"
    assert server.owner_of(urn) == "factory/prod/defects"
    child = "urn:pulumi:dev::p::my:index:Line$dda:index:GreengrassDeployment::line::1"
    assert server.owner_of(child) == "p/dev/line::1"


def test_hook_errors_carry_schema_names() -> None:
    def hook() -> None:
        raise InputError("trained_model_uri s3://m/t changed after it was checked", field="x")

    with pytest.raises(server._Failed, match=r"^trainedModelUri s3://m/t changed"):
        server._calling("urn:pulumi:s::p::dda:index:ModelComponent::m", hook)


def test_an_input_without_its_change_kind_cannot_be_declared() -> None:
    """Every input says what a change to it does; a plain property among the inputs is refused
    when the table is built, and the keyword itself is required."""
    from pulumi_dda import properties

    plain = properties.Prop("colour", properties.STRING, "A colour.")
    with pytest.raises(TypeError, match=r"inputs \['colour'\] declare no change kind"):
        properties.ResourceType("dda:index:X", "x", inputs=(plain,), outputs=())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="change"):
        properties.Input("colour", properties.STRING, "A colour.")  # type: ignore[call-arg]


def test_the_python_resource_classes_are_generated_from_the_tables() -> None:
    """``pulumi_dda/resources.py`` is what the generator writes (formatted by ruff): a changed
    declaration without regenerating fails here."""
    import subprocess
    import sys

    from pulumi_dda.plugin.pysdk import python_module

    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", "resources.py", "-"],
        input=python_module(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(__file__).resolve().parents[2] / "provider" / "pulumi_dda" / "resources.py"
    assert formatted == path.read_text(), (
        "regenerate: uv run python -m pulumi_dda.plugin --python > provider/pulumi_dda/resources.py"
        " && uv run ruff format provider/pulumi_dda/resources.py"
    )


def test_the_archive_limits_type_is_the_providers() -> None:
    from dataclasses import asdict

    from pulumi_dda import inputs, properties
    from pulumi_dda.package import ArchiveLimits

    defaults = asdict(ArchiveLimits())
    assert tuple(defaults) == inputs.LIMIT_KEYS
    for prop in properties.ARCHIVE_LIMITS.props:
        assert prop.documented.split()[0] == str(defaults[prop.snake])


def test_an_input_left_out_diffs_as_its_placeholder() -> None:
    """A state from before placeholders were left out (``archiveLimits: {}``) is no change
    against inputs without it; limits set or removed are a change of the property."""
    base = {"componentName": "model-x"}
    assert schema.detailed_diff(schema.MODEL, {**base, "archiveLimits": {}}, base, set()) == {}
    limits = {**base, "archiveLimits": {"maxMembers": 5}}
    assert schema.detailed_diff(schema.MODEL, base, limits, set()) == {"archiveLimits": schema.ADD}
    assert schema.detailed_diff(schema.MODEL, limits, base, set()) == {
        "archiveLimits": schema.UPDATE
    }
    tagged = schema.detailed_diff(
        schema.MODEL, {**base, "tags": {}}, {**base, "tags": {"a": "b"}}, set()
    )
    assert tagged == {'tags["a"]': schema.ADD}
