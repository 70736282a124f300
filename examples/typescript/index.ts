// A DDA model component and one Greengrass deployment per target, in TypeScript.
//
// Stack configuration (project namespace): trainedModelUri, compiledModels (target → URI),
// artifactBucket, thingGroups (target → thing group ARN), and optionally componentName,
// componentVersion (empty: each target gets its own version) and team (a tag).
import * as pulumi from "@pulumi/pulumi";
import * as dda from "./sdk";

export async function program(): Promise<Record<string, pulumi.Output<unknown>>> {
    const config = new pulumi.Config();
    const team = config.get("team") ?? "vision";
    const model = new dda.ModelComponent("model", {
        componentName: config.get("componentName") ?? "model-defects",
        componentVersion: config.get("componentVersion"),
        friendlyName: "Defects",
        trainedModelUri: config.require("trainedModelUri"),
        compiledModels: config.requireObject<Record<string, string>>("compiledModels"),
        artifactBucket: config.require("artifactBucket"),
        archiveLimits: { maxMembers: 1000 },
        tags: { team },
    });

    // One deployment per target, wired from `versions`: known in a preview, so a preview shows
    // the version each thing group moves to.
    const deploymentIds: Record<string, pulumi.Output<string>> = {};
    const thingGroups = config.requireObject<Record<string, string>>("thingGroups");
    for (const [target, thingGroupArn] of Object.entries(thingGroups)) {
        const version = model.versions.apply((versions) => versions[target]);
        const deployment = new dda.GreengrassDeployment(`deploy-${target}`, {
            targetArn: thingGroupArn,
            deploymentName: `dda-${target.replace(/_/g, "-")}`,
            deploymentPolicies: {
                failureHandlingPolicy: dda.DeploymentFailureHandlingPolicy.Rollback,
                componentUpdatePolicy: {
                    action: dda.DeploymentComponentUpdatePolicyAction.NotifyComponents,
                    timeoutInSeconds: 60,
                },
            },
            components: version.apply((v) => ({
                [v.componentName]: { componentVersion: v.componentVersion },
            })),
            tags: { team },
        });
        deploymentIds[target] = deployment.deploymentId;
    }

    return {
        versions: model.versions,
        components: model.components,
        modelName: model.modelName,
        deploymentIds: pulumi.output(deploymentIds),
    };
}
