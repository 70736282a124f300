"""Run the stack program (stacks/dda_stack.py) under Pulumi's mocks and record what it declares.

Each stack's ``Pulumi.<stack>.yaml`` is loaded into the runtime config exactly as the CLI passes
it (strings as-is, everything else as JSON) and the program runs against a mock monitor that
records every registered resource. The mocks stand in for the engine only: they answer the
dynamic ``DdaModelComponent`` with the components it would build (names and platforms from
``pulumi_dda.recipe``), so the deployments are wired to realistic outputs, and they answer the
two lookups the program makes (its account, the AWS IoT endpoints).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings

from pulumi_dda.plugin import schema
from pulumi_dda.recipe import TARGETS

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
sys.path.insert(0, str(STACKS_DIR))

import dda_stack  # noqa: E402 - lives in stacks/, which the line above puts on sys.path

# pulumi_aws.s3 warns when it loads about the deprecated classes it still defines (BucketV2...);
# loading it here under a filter keeps those out of the report while a deprecated class the
# program instantiates would still warn.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pulumi_aws

    pulumi_aws.s3.Bucket  # noqa: B018 - the package loads its modules on first attribute use
    pulumi_aws.lambda_.Permission  # noqa: B018 - same (the pre-provisioning hook's permission)

PROJECT = "pulumi-dda"
ACCOUNT = "111122223333"
MODEL = "dda:index:ModelComponent"
DEPLOYMENT = "dda:index:GreengrassDeployment"
DYNAMIC = (MODEL, DEPLOYMENT)
PROVIDER_KEY = "__provider"
DEV_CONFIG_AS_PROD = "dev-config-as-prod"
ENDPOINTS = {
    "iot:Data-ATS": "a1b2c3d4e5f6g7-ats.iot.{region}.amazonaws.com",
    "iot:CredentialProvider": "c1d2e3f4g5h6i7.credentials.iot.{region}.amazonaws.com",
}


@dataclass(frozen=True)
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    id: str
    outputs: dict[str, Any]
    provider: str | None = None
    """The explicit provider reference (``<urn>::<id>``); None for the default provider."""


@dataclass(frozen=True)
class Call:
    token: str
    provider: str | None


@dataclass(frozen=True)
class StackRun:
    stack: str
    config: dict[str, Any]
    resources: list[Registered]
    outputs: dict[str, Any]
    calls: list[Call]

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def dynamic(self, key: str) -> list[Registered]:
        """The project's resources (dynamic, each of its own type) that have input ``key``."""
        return [r for r in self.resources if r.typ in DYNAMIC and key in r.inputs]

    def one(self, typ: str) -> Registered:
        (found,) = self.of_type(typ)
        return found


def stack_config(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())
    return dict(document["config"])


def project_config(config: dict[str, Any], key: str, default: Any = None) -> Any:
    return config.get(f"{PROJECT}:{key}", default)


class RecordingMocks(pulumi.runtime.Mocks):
    """Records each registration and answers with the outputs the real resource would have."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.registered: list[Registered] = []
        self.calls: list[Call] = []

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The only lookups the program may make: its account and the IoT endpoints."""
        self.calls.append(Call(args.token, args.provider or None))
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:aws:iam::{ACCOUNT}:user/deployer"
            return {"accountId": ACCOUNT, "arn": arn, "userId": "AIDEXAMPLE", "id": ACCOUNT}, []
        if args.token == "aws:iot/getEndpoint:getEndpoint":
            kind = args.args["endpointType"]
            address = ENDPOINTS[kind].format(region=self.region)
            return {"endpointType": kind, "endpointAddress": address, "id": address}, []
        raise AssertionError(f"the program made an unexpected provider call: {args.token}")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = {k: v for k, v in args.inputs.items() if k != PROVIDER_KEY}
        table = schema.RESOURCES.get(args.typ)
        if table is not None:  # the dda plugin's resources: what its check hands the provider
            inputs = schema.with_defaults(table, schema.to_provider(table, inputs))
        id_, outputs = self._answer(args.typ, args.name, inputs)
        self.registered.append(
            Registered(args.typ, args.name, inputs, id_, outputs, args.provider or None)
        )
        return id_, schema.from_provider(table, outputs) if table is not None else outputs

    def _answer(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if typ == MODEL:
            return self._model(inputs)
        if typ == DEPLOYMENT:
            # GreengrassDeployment: the id is the target ARN, deployment_id the revision.
            revision = hashlib.sha256(name.encode()).hexdigest()[:36]
            return inputs["target_arn"], {**inputs, "deployment_id": revision}
        arn_prefix = f"arn:aws:iot:{self.region}:{ACCOUNT}"
        outputs: dict[str, dict[str, Any]] = {
            "aws:s3/bucket:Bucket": {"arn": f"arn:aws:s3:::{inputs.get('bucket')}"},
            "aws:iot/thingGroup:ThingGroup": {
                "arn": f"{arn_prefix}:thinggroup/{inputs.get('name')}"
            },
            "aws:iot/thing:Thing": {"arn": f"{arn_prefix}:thing/{inputs.get('name')}"},
            "aws:iot/roleAlias:RoleAlias": {"arn": f"{arn_prefix}:rolealias/{inputs.get('alias')}"},
            "aws:iam/role:Role": {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "name": name},
            "aws:iot/policy:Policy": {"arn": f"{arn_prefix}:policy/{inputs.get('name')}"},
            "aws:iot/provisioningTemplate:ProvisioningTemplate": {
                "arn": f"{arn_prefix}:provisioningtemplate/{inputs.get('name')}"
            },
        }
        if typ == "aws:iot/certificate:Certificate":
            # AWS IoT names a certificate by a hash of it; the resource name is as stable and
            # lets two stacks' ARNs be compared once their config values are normalised.
            cert_id = name
            pem = f"-----BEGIN CERTIFICATE-----\n{cert_id}\n-----END CERTIFICATE-----\n"
            return cert_id, {**inputs, "arn": f"{arn_prefix}:cert/{cert_id}", "certificatePem": pem}
        physical = inputs.get("bucket") or inputs.get("name") or name
        return str(physical), {**inputs, **outputs.get(typ, {})}

    def _model(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        version = inputs["component_version"] or "1.0.0"
        components = {}
        for target, uri in inputs["compiled_models"].items():
            package_id = hashlib.sha256(uri.encode()).hexdigest()[:12]
            name = f"{inputs['component_name']}-{target.replace('_', '-')}"
            key = f"{inputs['artifact_prefix']}model_artifacts/model-{package_id}"
            components[target] = {
                "component_name": name,
                "component_version": version,
                "arn": f"arn:aws:greengrass:{self.region}:{ACCOUNT}:components:{name}"
                f":versions:{version}",
                "platform": TARGETS[target].architecture,
                "local_server_component": TARGETS[target].local_server_component,
                "artifact_uri": f"s3://{inputs['artifact_bucket']}/{key}/"
                f"{package_id}_greengrass_model_component.zip",
                "package_id": package_id,
                "digest": "digest-" + package_id,
                "adopted": False,
            }
        outputs = {
            **inputs,
            "component_version": version,
            "components": components,
            "versions": {
                t: {k: c[k] for k in ("component_name", "component_version")}
                for t, c in components.items()
            },
            "plan": {t: c["component_version"] for t, c in components.items()},
            "model_name": "classification",
            # What the provider's check reads from the published LocalServer recipes.
            "local_server_artifacts": {
                t: sorted(
                    f"s3://dda-gdk-{self.region}-{ACCOUNT}/{c['local_server_component']}"
                    f"/1.0.0/{name}"
                    for name in ("localserver.zip", "runtime%20deps.tar.gz")
                )
                for t, c in components.items()
            },
        }
        return f"{inputs['component_name']}@{version}", outputs


def _cli_config(config: dict[str, Any]) -> dict[str, str]:
    """The config map the CLI hands the program: non-string values arrive as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def run_stack(
    stack: str, config_of: str | None = None, overrides: dict[str, Any] | None = None
) -> StackRun:
    """Run the program for one stack on fresh mocks, settings, root resource and config.

    ``config_of`` runs the stack with another stack's config file; ``overrides`` replaces
    config keys (a value of None removes the key). Afterwards no mock monitor or stack config
    is left behind for other tests.
    """
    config = stack_config(config_of or stack)
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    # Pulumi's mocks run on the thread's current event loop; an earlier asyncio.run() in the
    # same process leaves none.
    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = RecordingMocks(config["aws:region"])
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        exports = dda_stack.define_stack(dda_stack.read_config())
        return pulumi.Output.from_input(exports).apply(outputs.update)

    try:
        settings.reset_options(project=PROJECT, stack=stack, preview=False)
        pulumi.runtime.set_all_config(_cli_config(config))
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
        program()
    finally:
        settings.reset_options()
        pulumi.runtime.set_all_config({})
    return StackRun(stack, config, mocks.registered, outputs, mocks.calls)
