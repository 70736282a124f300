"""The generated Python classes take their inputs as keyword arguments or as one ``…Args``
value, and both reach the engine as the same schema-named properties (Pulumi's mocks: what the
program registers, not what the provider does with it)."""

from __future__ import annotations

import logging
from typing import Any

import pulumi
import pytest

from pulumi_dda.resources import (
    DdaModelComponent,
    DdaModelComponentArgs,
    GreengrassDeployment,
    GreengrassDeploymentArgs,
)

TARGET = "arn:aws:iot:eu-west-1:123456789012:thinggroup/line-1"


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[args.name] = dict(args.inputs)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


def test_args_and_keywords_register_the_same_inputs() -> None:
    recorder = _Recorder()
    pulumi.runtime.set_mocks(recorder, project="p", stack="s", preview=False)
    model = {
        "component_name": "model-x",
        "trained_model_uri": "s3://m/t.tar.gz",
        "compiled_models": {"x86_64-cpu": "s3://m/x.tar.gz"},
        "artifact_bucket": "edge",
        "tags": {"team": "vision"},
    }
    deployment = {
        "target_arn": TARGET,
        "components": {"model-x-x86-64-cpu": {"component_version": "1.0.0"}},
    }

    @pulumi.runtime.test
    def program() -> Any:
        DdaModelComponent("kw", **model)
        DdaModelComponent("args", DdaModelComponentArgs(**model))
        GreengrassDeployment("dkw", **deployment)
        resource = GreengrassDeployment("dargs", GreengrassDeploymentArgs(**deployment))
        return resource.urn

    program()
    assert recorder.inputs["kw"] == recorder.inputs["args"]
    assert recorder.inputs["kw"]["compiledModels"] == {"x86_64-cpu": "s3://m/x.tar.gz"}
    assert recorder.inputs["dkw"] == recorder.inputs["dargs"]
    assert recorder.inputs["dkw"]["components"] == {
        "model-x-x86-64-cpu": {"componentVersion": "1.0.0"}
    }


def test_the_stacks_aws_profile_is_named_once_as_not_reaching_the_plugin(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A plugin reads only its own config (``dda:profile``); with only ``aws:profile`` set, the
    program says so once, with the command that fixes it, instead of letting the resources call
    AWS with other credentials in silence."""
    pulumi.runtime.set_mocks(_Recorder(), project="p", stack="s", preview=False)

    @pulumi.runtime.test
    def program() -> Any:
        GreengrassDeployment("a", target_arn=TARGET, components={})
        return GreengrassDeployment("b", target_arn=TARGET, components={}).urn

    def warnings(config: dict[str, str]) -> list[str]:
        pulumi.runtime.set_all_config(config)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            program()
        return [r.getMessage() for r in caplog.records if "aws:profile" in r.getMessage()]

    try:
        assert warnings({"aws:profile": "factory"}) == [
            "stack config aws:profile (factory) is not used by pulumi-dda, whose provider reads "
            "only its own config: run `pulumi config set dda:profile factory` (or set "
            "AWS_PROFILE) so that its resources call AWS with that profile"
        ]
        assert warnings({"aws:profile": "plant-2", "dda:profile": "plant-2"}) == []
        assert len(warnings({"aws:profile": "plant-2"})) == 1
    finally:
        pulumi.runtime.set_all_config({})
