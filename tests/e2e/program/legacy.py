"""The resources as pulumi-dda registered them before the plugin served Python programs:
Pulumi dynamic resources (``pulumi-python:dynamic/dda:…``) with the providers pickled into
state, snake_case properties and the owner set by the program. The upgrade test makes a stack
with these, then moves it to :mod:`pulumi_dda.resources`."""

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from pulumi_dda.deployment import CHECK_FILLED as DEPLOYMENT_FILLED
from pulumi_dda.deployment import OUTPUT_KEYS, GreengrassDeploymentProvider
from pulumi_dda.model_component import CHECK_FILLED, STATE_ONLY, DdaModelComponentProvider
from pulumi_dda.properties import DEPLOYMENT, MODEL


def _owner(name: str) -> str:
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"


class DdaModelComponent(Resource, module="dda", name="ModelComponent"):
    components: pulumi.Output[Any]
    versions: pulumi.Output[Any]

    def __init__(self, name: str, **inputs: Any) -> None:
        props = {**MODEL.defaults(), **{k: v for k, v in inputs.items() if v is not None}}
        props["owner"] = _owner(name)
        props.update(dict.fromkeys(k for k in CHECK_FILLED if k not in STATE_ONLY))
        props["components"] = None
        super().__init__(DdaModelComponentProvider(), name, props)


class GreengrassDeployment(Resource, module="dda", name="GreengrassDeployment"):
    deployment_id: pulumi.Output[str]

    def __init__(self, name: str, **inputs: Any) -> None:
        props = {**DEPLOYMENT.defaults(), **{k: v for k, v in inputs.items() if v is not None}}
        props["owner"] = _owner(name)
        props.update(dict.fromkeys((*OUTPUT_KEYS, "revision_count", *DEPLOYMENT_FILLED)))
        super().__init__(GreengrassDeploymentProvider(), name, props)
