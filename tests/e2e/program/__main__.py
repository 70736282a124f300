"""End-to-end test program: DdaModelComponents declared from stack config.

``legacyDynamic`` (optional): declare them as the dynamic resources of earlier releases.

``deployTo`` (optional) maps a compilation target to a thing-group ARN: each gets a
GreengrassDeployment of that target's component, wired from ``versions`` (known at preview).
``takeOver`` (optional, false): the deployments may supersede another owner's deployment.
``rollout`` (optional): the deployments' rollout policy (snake_case keys); ``keepRevisions``
(optional): their ``keep_revisions``.
"""

import pulumi

from pulumi_dda import DdaModelComponent, GreengrassDeployment

config = pulumi.Config()
model = config.require_object("model")
count = config.get_int("count") or 1
model_class, deployment_class = DdaModelComponent, GreengrassDeployment
if config.get_bool("legacyDynamic"):
    import legacy  # the dynamic resources of earlier releases (the upgrade test)

    model_class, deployment_class = legacy.DdaModelComponent, legacy.GreengrassDeployment
components = {}
for index in range(count):
    suffix = f"-{index}" if count > 1 else ""
    resource = model_class(
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

deployments = {}
for target, group in (config.get_object("deployTo") or {}).items():
    deployment = deployment_class(
        f"deployment-{target}",
        target_arn=group,
        components=resource.versions.apply(
            lambda versions, t=target: {
                versions[t]["component_name"]: {
                    "component_version": versions[t]["component_version"]
                }
            }
        ),
        # Passed only when asked, so the program also runs on a pulumi-dda without it.
        **({"take_over": True} if config.get_bool("takeOver") else {}),
        **({"rollout": config.get_object("rollout")} if config.get("rollout") else {}),
        **(
            {"keep_revisions": config.get_int("keepRevisions")}
            if config.get("keepRevisions")
            else {}
        ),
    )
    deployments[target] = deployment.deployment_id
pulumi.export("components", components)
pulumi.export("deployments", deployments)
