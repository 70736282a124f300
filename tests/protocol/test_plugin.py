"""What a YAML or TypeScript program sees of the ``dda`` provider plugin: the schema's names.

The lifecycle itself is the dynamic providers' (every protocol test runs against the plugin as
well, see conftest.py); these tests talk to the plugin process in its own camelCase, with the
owner taken from the URN, and a stand-in engine receiving its progress lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from plugin_harness import SNAPSHOT, plugin_command
from provider_process import REGION, ProviderError, ProviderProcess, endpoint_env, props_of, struct
from pulumi.output import Unknown
from pulumi.runtime.proto import engine_pb2_grpc, provider_pb2

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
from pulumi_dda.ownership import OWNER_TAG

pytest_plugins = ("deployment_fixtures",)

MODEL = "urn:pulumi:prod::factory::dda:index:ModelComponent::defects"
DEPLOYMENT = "urn:pulumi:prod::factory::dda:index:GreengrassDeployment::line-1"


class Engine(engine_pb2_grpc.EngineServicer):  # type: ignore[misc]
    """Stands in for the engine's log service."""

    def __init__(self) -> None:
        self.logged: list[tuple[str, str]] = []

    def Log(self, request: Any, context: Any) -> Any:
        self.logged.append((request.urn, request.message))
        return empty_pb2.Empty()


@pytest.fixture(scope="module")
def engine() -> Iterator[tuple[Engine, str]]:
    service = Engine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield service, f"127.0.0.1:{port}"
    server.stop(0)


@pytest.fixture(scope="module")
def plugin(
    endpoint: LocalEndpoint, engine: tuple[Engine, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProviderProcess]:
    log = tmp_path_factory.mktemp("plugin") / "stderr.log"
    process = ProviderProcess(plugin_command(engine[1]), endpoint_env(endpoint.url), log)
    process.call("Configure", provider_pb2.ConfigureRequest(args=struct({"region": REGION})))
    yield process
    process.stop()


@pytest.fixture
def model(news: dict[str, Any]) -> dict[str, Any]:
    """What a YAML program declares: the schema's names, optional inputs left out."""
    return {
        "componentName": news["component_name"],
        "componentVersion": "1.0.0",
        "trainedModelUri": news["trained_model_uri"],
        "compiledModels": news["compiled_models"],
        "artifactBucket": news["artifact_bucket"],
        "tags": {"team": "vision"},
    }


def _check(plugin: ProviderProcess, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
    return plugin.call(
        "Check", provider_pb2.CheckRequest(urn=urn, olds=struct(olds), news=struct(news))
    )


def _create(plugin: ProviderProcess, urn: str, news: dict[str, Any]) -> tuple[Any, Any]:
    checked = _check(plugin, urn, {}, news)
    assert list(checked.failures) == []
    created = plugin.call("Create", provider_pb2.CreateRequest(urn=urn, properties=checked.inputs))
    return checked, created


def test_get_schema_is_the_published_schema(plugin: ProviderProcess) -> None:
    response = plugin.call("GetSchema", provider_pb2.GetSchemaRequest())
    assert json.loads(response.schema) == json.loads(SNAPSHOT.read_text())
    assert (
        plugin.call("GetPluginInfo", empty_pb2.Empty()).version
        == json.loads(response.schema)["version"]
    )


def test_a_model_component_in_the_schemas_names_owned_by_its_urn(
    plugin: ProviderProcess, model: dict[str, Any], gg: Any, engine: tuple[Engine, str]
) -> None:
    checked, created = _create(plugin, MODEL, model)
    inputs = props_of(checked.inputs)
    # Left out: real defaults are filled in, placeholders stay absent (inputs and outputs).
    assert {k: inputs[k] for k in ("targetSuffix", "relaxDeviceChecks")} == {
        "targetSuffix": True,
        "relaxDeviceChecks": False,
    }
    for unset in ("artifactPrefix", "waitTimeoutSeconds", "archiveLimits", "region", "roleArn"):
        assert unset not in inputs
        assert unset not in props_of(created.properties)
    assert inputs["versions"]["x86_64-cpu"] == {
        "componentName": "model-defects-x86-64-cpu",
        "componentVersion": "1.0.0",
    }
    outs = props_of(created.properties)
    x86 = outs["components"]["x86_64-cpu"]
    assert set(x86) == {
        "componentName",
        "componentVersion",
        "arn",
        "platform",
        "localServerComponent",
        "artifactUri",
        "packageId",
        "digest",
        "adopted",
    }
    assert outs["modelName"] == "classification"
    assert gg.list_tags_for_resource(resourceArn=x86["arn"])["tags"][OWNER_TAG] == (
        "factory/prod/defects"
    )
    logged = engine[0].logged
    assert (MODEL, f"[x86_64-cpu] created {x86['arn']}; waiting for DEPLOYABLE") in logged

    tagged = _check(plugin, MODEL, inputs, {**model, "tags": {"team": "ml"}})
    diff = plugin.call(
        "Diff",
        provider_pb2.DiffRequest(
            id=created.id, urn=MODEL, olds=created.properties, news=tagged.inputs
        ),
    )
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == []
    moved = _check(plugin, MODEL, inputs, {**model, "roleArn": "arn:aws:iam::123456789012:role/r"})
    diff = plugin.call(
        "Diff",
        provider_pb2.DiffRequest(
            id=created.id, urn=MODEL, olds=created.properties, news=moved.inputs
        ),
    )
    assert list(diff.replaces) == ["roleArn"]
    plugin.call(
        "Delete",
        provider_pb2.DeleteRequest(id=created.id, urn=MODEL, properties=created.properties),
    )


def test_a_state_with_the_former_placeholders_reads_as_the_same_inputs(
    plugin: ProviderProcess, model: dict[str, Any]
) -> None:
    """A stack made by an earlier release holds every optional input, placeholders included
    (``componentVersion: ""``, ``waitTimeoutSeconds: 0``, ``archiveLimits`` with snake_case
    keys): the same program is no change against it, and typed camelCase limits are the same
    as those snake_case ones."""
    _checked, created = _create(plugin, MODEL, {**model, "archiveLimits": {"maxMembers": 50}})
    outs = props_of(created.properties)
    assert outs["archiveLimits"] == {"maxMembers": 50}
    former = {
        **outs,
        "artifactPrefix": "",
        "friendlyName": "",
        "roleArn": "",
        "waitTimeoutSeconds": 0,
        "archiveLimits": {"max_members": 50},
    }
    again = _check(plugin, MODEL, former, {**model, "archiveLimits": {"maxMembers": 50}})
    assert list(again.failures) == []
    diff = plugin.call(
        "Diff",
        provider_pb2.DiffRequest(id=created.id, urn=MODEL, olds=struct(former), news=again.inputs),
    )
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
    plugin.call(
        "Delete",
        provider_pb2.DeleteRequest(id=created.id, urn=MODEL, properties=created.properties),
    )


def test_typed_archive_limits_reach_the_archive_reader(plugin: ProviderProcess, model: Any) -> None:
    checked = _check(plugin, MODEL, {}, {**model, "archiveLimits": {"maxMembers": 2}})
    assert [f.property for f in checked.failures] == ["trainedModelUri"]
    assert "more than 2 members" in checked.failures[0].reason
    snake = _check(plugin, MODEL, {}, {**model, "archiveLimits": {"max_members": 2}})
    assert (
        "archiveLimits",
        "archiveLimits: unknown keys ['max_members'] "
        "(allowed: ['maxCompressionRatio', 'maxMembers', 'maxTotalBytes'])",
    ) in [(f.property, f.reason) for f in snake.failures]


def test_failures_and_messages_name_the_schemas_properties(
    plugin: ProviderProcess,
    model: dict[str, Any],
    upload: Callable[[str, Path], str],
    tmp_path: Path,
) -> None:
    checked = _check(plugin, MODEL, {}, {**model, "componentVersion": 1.0})
    assert [(f.property, f.reason) for f in checked.failures] == [
        ("componentVersion", "componentVersion must be a string, got float 1 (quote it: '1.0.0')")
    ]
    missing = {**model["compiledModels"], "x86_64-cpu": "s3://ml-models/neo/none.tar.gz"}
    checked = _check(plugin, MODEL, {}, {**model, "compiledModels": missing})
    assert [f.property for f in checked.failures] == ["compiledModels.x86_64-cpu"]
    assert checked.failures[0].reason.startswith("compiledModels.x86_64-cpu s3://ml-models/")

    checked, created = _create(plugin, MODEL, model)
    upload("neo/x86/model.tar.gz", samples.write_compiled_model(tmp_path / "n.tar.gz", seed=9))
    again = _check(plugin, MODEL, props_of(checked.inputs), model)
    assert [f.property for f in again.failures] == ["componentVersion"]
    assert "(compiledModels.x86_64-cpu changed)" in again.failures[0].reason
    assert "bump componentVersion to 2.0.0 or omit it" in again.failures[0].reason
    plugin.call(
        "Delete",
        provider_pb2.DeleteRequest(id=created.id, urn=MODEL, properties=created.properties),
    )


def test_a_deployment_in_the_schemas_names(
    plugin: ProviderProcess,
    thing_groups: list[str],
    publish_components: Callable[[dict[str, list[str]]], None],
    gg: Any,
) -> None:
    publish_components({"com.example.Inspector": ["1.0.0"]})
    spec = {"componentVersion": "1.0.0", "configurationUpdate": {"merge": '{"a": 1}'}}
    policies = {
        "failureHandlingPolicy": "DO_NOTHING",
        "componentUpdatePolicy": {"action": "SKIP_NOTIFY_COMPONENTS", "timeoutInSeconds": 5},
    }
    job = {"timeoutConfig": {"inProgressTimeoutInMinutes": 30}}
    deployment = {
        "targetArn": thing_groups[0],
        "components": {"com.example.Inspector": spec},
        "deploymentPolicies": policies,
        "iotJobConfiguration": job,
    }

    wrong = _check(
        plugin, DEPLOYMENT, {}, {**deployment, "components": {"x": {"component_version": "1.0.0"}}}
    )
    assert [(f.property, f.reason) for f in wrong.failures] == [
        (
            "components",
            "components.x: unknown keys ['component_version'] "
            "(allowed: ['componentVersion', 'configurationUpdate'])",
        )
    ]
    wrong = _check(
        plugin,
        DEPLOYMENT,
        {},
        {**deployment, "deploymentPolicies": {"failureHandlingPolicy": "UNDO"}},
    )
    assert [(f.property, f.reason) for f in wrong.failures] == [
        (
            "deploymentPolicies",
            "deploymentPolicies.failureHandlingPolicy: 'UNDO' is not one of "
            "['ROLLBACK', 'DO_NOTHING']",
        )
    ]
    wrong = _check(plugin, DEPLOYMENT, {}, {**deployment, "targetArn": "line-1"})
    assert [f.property for f in wrong.failures] == ["targetArn"]
    assert wrong.failures[0].reason.startswith("targetArn 'line-1' is not an IoT thing")

    _checked, created = _create(plugin, DEPLOYMENT, deployment)
    outs = props_of(created.properties)
    assert outs["revisionCount"] == 1
    assert outs["deploymentStatus"] == "ACTIVE"
    found = gg.get_deployment(deploymentId=outs["deploymentId"])
    assert found["components"] == {
        "com.example.Inspector": {
            "componentVersion": "1.0.0",
            "configurationUpdate": {"merge": '{"a": 1}'},
        }
    }
    assert found["tags"][OWNER_TAG] == "factory/prod/line-1"
    # typed in the schema, passed to the API in its own shape
    assert found["deploymentPolicies"]["failureHandlingPolicy"] == "DO_NOTHING"
    assert found["deploymentPolicies"]["componentUpdatePolicy"] == policies["componentUpdatePolicy"]
    assert found["iotJobConfiguration"]["timeoutConfig"] == job["timeoutConfig"]
    assert outs["deploymentPolicies"] == policies
    with pytest.raises(ProviderError, match="unknown resource type dda:index:Nothing"):
        plugin.call(
            "Check", provider_pb2.CheckRequest(urn=MODEL.replace("ModelComponent", "Nothing"))
        )
    plugin.call(
        "Delete",
        provider_pb2.DeleteRequest(id=created.id, urn=DEPLOYMENT, properties=created.properties),
    )


def _update(
    plugin: ProviderProcess, urn: str, id_: str, olds: Any, news: Any, preview: bool
) -> Any:
    request = provider_pb2.UpdateRequest(urn=urn, id=id_, olds=olds, news=news, preview=preview)
    return props_of(plugin.call("Update", request).properties)


def test_update_previews_show_the_outputs_an_update_will_have(
    plugin: ProviderProcess,
    model: dict[str, Any],
    thing_groups: list[str],
    publish_components: Callable[[dict[str, list[str]]], None],
) -> None:
    """The plugin offers provider previews: a preview of a tags-only update returns exactly the
    outputs the update then returns (so no output shows as removed); a deployment's new
    revision has unknown ids until it is created."""
    configure = provider_pb2.ConfigureRequest(args=struct({"region": REGION}))
    configured = plugin.call("Configure", configure)
    assert configured.supportsPreview is True
    _checked, created = _create(plugin, MODEL, model)
    retagged = _check(plugin, MODEL, props_of(_checked.inputs), {**model, "tags": {"t": "2"}})
    args = (plugin, MODEL, created.id, created.properties, retagged.inputs)
    planned, done = _update(*args, preview=True), _update(*args, preview=False)
    assert planned == done
    assert planned["tags"] == {"t": "2"}
    assert planned["components"] == props_of(created.properties)["components"]

    publish_components({"com.example.Inspector": ["1.0.0", "2.0.0"]})
    deployment = {
        "targetArn": thing_groups[0],
        "components": {"com.example.Inspector": {"componentVersion": "1.0.0"}},
    }
    _checked, first = _create(plugin, DEPLOYMENT, deployment)
    moved = {**deployment, "components": {"com.example.Inspector": {"componentVersion": "2.0.0"}}}
    checked = _check(plugin, DEPLOYMENT, deployment, moved)
    planned = _update(plugin, DEPLOYMENT, first.id, first.properties, checked.inputs, True)
    assert planned["revisionCount"] == 2
    assert planned["components"] == moved["components"]
    assert isinstance(planned["deploymentId"], Unknown)  # the engine shows it as computed
    done = _update(plugin, DEPLOYMENT, first.id, first.properties, checked.inputs, False)
    assert done["revisionCount"] == 2
    assert done["deploymentId"] != props_of(first.properties)["deploymentId"]
