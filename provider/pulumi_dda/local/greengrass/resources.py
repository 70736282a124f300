"""The two Greengrass v2 resources, component versions and deployments, and their ARNs.

Plain records: the backend in ``models`` decides what happens to them; these only know how
to present themselves in the AWS-cased shapes of the model (``to_*`` methods).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import recipes

JsonDict = dict[str, Any]

REQUESTED, INITIATED, DEPLOYABLE, FAILED = "REQUESTED", "INITIATED", "DEPLOYABLE", "FAILED"
ACTIVE, CANCELED, INACTIVE = "ACTIVE", "CANCELED", "INACTIVE"

COMPONENT_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):greengrass:(?P<region>[^:]*):(?P<account>[^:]+):"
    r"components:(?P<name>[^:]+)(?::versions:(?P<version>[^:]+))?$"
)
DEPLOYMENT_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):greengrass:(?P<region>[^:]*):(?P<account>[^:]+):"
    r"deployments:(?P<id>[^:]+)$"
)
TARGET_ARN = re.compile(
    r"^arn:(?P<partition>[^:]+):iot:(?P<region>[^:]*):(?P<account>[0-9]+):"
    r"(?P<kind>thing|thinggroup)/(?P<name>.+)$"
)


def component_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:greengrass:{region}:{account_id}:components:{name}"


@dataclass
class ComponentVersion:
    """One immutable name+version with the recipe the service stored for it."""

    account_id: str
    region: str
    name: str
    version: str
    recipe: recipes.Recipe
    created: float
    artifact_uris: list[str]
    tags: dict[str, str] = field(default_factory=dict)
    final_state: str | None = None
    message: str = "NONE"
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"{component_arn(self.region, self.account_id, self.name)}:versions:{self.version}"

    def fail(self, message: str, errors: dict[str, str]) -> None:
        self.final_state = FAILED
        self.message = message
        self.errors = dict(errors)

    def to_status(self, state: str, vendor_guidance: str | None = None) -> JsonDict:
        status = {"componentState": state, "message": self.message, "errors": dict(self.errors)}
        if vendor_guidance is not None:
            status["vendorGuidance"] = vendor_guidance
            status["vendorGuidanceMessage"] = "This component version was deleted"
        return status

    def to_created(self, state: str, vendor_guidance: str | None = None) -> JsonDict:
        return {
            "arn": self.arn,
            "componentName": self.name,
            "componentVersion": self.version,
            "creationTimestamp": self.created,
            "status": self.to_status(state, vendor_guidance),
        }

    def to_description(self, state: str, vendor_guidance: str | None = None) -> JsonDict:
        return {
            **self.to_created(state, vendor_guidance),
            "publisher": recipes.text_field(self.recipe, "ComponentPublisher"),
            "description": recipes.text_field(self.recipe, "ComponentDescription"),
            "platforms": recipes.platforms(self.recipe),
            "tags": dict(self.tags),
        }

    def to_latest_version(self) -> JsonDict:
        return {
            "arn": self.arn,
            "componentVersion": self.version,
            "creationTimestamp": self.created,
            "description": recipes.text_field(self.recipe, "ComponentDescription"),
            "publisher": recipes.text_field(self.recipe, "ComponentPublisher"),
            "platforms": recipes.platforms(self.recipe),
        }

    def to_list_item(self) -> JsonDict:
        return {"componentName": self.name, "componentVersion": self.version, "arn": self.arn}


@dataclass
class Deployment:
    """One revision of the single deployment a target (thing or thing group) has."""

    account_id: str
    region: str
    deployment_id: str
    target_arn: str
    revision_id: str
    created: float
    iot_job_id: str
    components: dict[str, Any]
    deployment_policies: JsonDict
    iot_job_configuration: JsonDict
    deployment_name: str | None = None
    parent_target_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    status: str = ACTIVE
    is_latest: bool = True

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:greengrass:{self.region}:{self.account_id}:deployments:{self.deployment_id}"
        )

    @property
    def iot_job_arn(self) -> str:
        return f"arn:aws:iot:{self.region}:{self.account_id}:job/{self.iot_job_id}"

    def to_created(self) -> JsonDict:
        return {
            "deploymentId": self.deployment_id,
            "iotJobId": self.iot_job_id,
            "iotJobArn": self.iot_job_arn,
        }

    def to_summary(self) -> JsonDict:
        return {
            "targetArn": self.target_arn,
            "revisionId": self.revision_id,
            "deploymentId": self.deployment_id,
            "deploymentName": self.deployment_name,
            "creationTimestamp": self.created,
            "deploymentStatus": self.status,
            "isLatestForTarget": self.is_latest,
            "parentTargetArn": self.parent_target_arn,
        }

    def to_detail(self) -> JsonDict:
        return {
            **self.to_summary(),
            "iotJobId": self.iot_job_id,
            "iotJobArn": self.iot_job_arn,
            "components": self.components,
            "deploymentPolicies": self.deployment_policies,
            "iotJobConfiguration": self.iot_job_configuration,
            "tags": dict(self.tags),
        }


def with_policy_defaults(policies: JsonDict | None) -> JsonDict:
    """The documented defaults, which GetDeployment reports when the client set none."""
    given = policies or {}
    return {
        "failureHandlingPolicy": given.get("failureHandlingPolicy", "ROLLBACK"),
        "componentUpdatePolicy": {
            "timeoutInSeconds": 60,
            "action": "NOTIFY_COMPONENTS",
            **given.get("componentUpdatePolicy", {}),
        },
        "configurationValidationPolicy": {
            "timeoutInSeconds": 30,
            **given.get("configurationValidationPolicy", {}),
        },
    }
