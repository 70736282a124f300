"""End-to-end test program: DdaModelComponents declared from stack config."""

import pulumi

from pulumi_dda import DdaModelComponent

config = pulumi.Config()
model = config.require_object("model")
count = config.get_int("count") or 1
components = {}
for index in range(count):
    suffix = f"-{index}" if count > 1 else ""
    resource = DdaModelComponent(
        f"model{suffix}",
        component_name=model["componentName"] + suffix,
        component_version=model.get("componentVersion"),
        trained_model_uri=model["trainedModelUri"],
        compiled_models=model["compiledModels"],
        artifact_bucket=config.require("artifactBucket"),
        friendly_name=model.get("friendlyName"),
        tags=config.get_object("tags") or {},
        role_arn=config.get("roleArn"),
        wait_timeout_seconds=60,
    )
    components[f"model{suffix}"] = resource.components
pulumi.export("components", components)
