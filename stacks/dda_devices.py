"""Core devices that can join: certificates, IoT policies, fleet provisioning, nucleus config.

Two ways in, both without a private key in Pulumi state:

- **One certificate per listed device** (``certificateRequests``): the device makes its key
  pair and a CSR; the stack signs the CSR into an ``aws.iot.Certificate`` (AWS IoT never sees
  or makes the key), attaches it exclusively to the device's thing and attaches that thing's
  own minimal IoT policy. The outputs carry the certificate and the nucleus ``config.yaml`` for
  ``--init-config``.
- **Fleet provisioning by claim** (``fleetProvisioning``): one claim certificate (also from a
  CSR) that may only call the provisioning MQTT API; per platform a template that creates the
  thing ``<prefix><serial>``, puts it in its ``dda-<target>`` group and attaches the shared
  prefix-scoped IoT policy.

Rendering (``nucleus_config``, ``fleet_provisioning_config``, ``installer_command``) is pure, so
the tests check the text a device will read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

from dda_account import StackAccount
from dda_policies import claim_policy, core_device_policy, fleet_template, provisioning_trust_policy

# DDA installs Greengrass under this root (the DDA repository's device setup scripts).
DDA_ROOT = "/aws_dda/greengrass/v2"
INSTALLER_JAR = "./GreengrassInstaller/lib/Greengrass.jar"
FLEET_PLUGIN_JAR = "./aws.greengrass.FleetProvisioningByClaim.jar"
ROOT_CA = "AmazonRootCA1.pem"
# What DDA's LocalServer reads for its local TLS, in DDA's root (DDA's station_install copies
# the installer's thingCert.crt / privKey.key / rootCA.pem to these names).
DEVICE_CERTIFICATE = "device.pem.crt"
DEVICE_KEY = "private.pem.key"
# MQTT client ids of claim certificates: no thing of the stack may have a name starting so.
CLAIM_CLIENT_PREFIX = "dda-claim-"
# Payload version AWS IoT sends a pre-provisioning hook (the only one it documents).
HOOK_PAYLOAD_VERSION = "2020-04-01"
# The managed policy "Set up AWS IoT fleet provisioning" attaches to the provisioning role.
THINGS_REGISTRATION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration"


# Where AWS publishes what a device downloads ("Install AWS IoT Greengrass Core software with
# manual resource provisioning", "Install ... with AWS IoT fleet provisioning").
NUCLEUS_RELEASES = "https://d2s8p88vqu9w66.cloudfront.net/releases"
ROOT_CA_URL = "https://www.amazontrust.com/repository/AmazonRootCA1.pem"
FLEET_PLUGIN_DIR = f"{NUCLEUS_RELEASES}/aws-greengrass-FleetProvisioningByClaim"
FLEET_PLUGIN_URL = f"{FLEET_PLUGIN_DIR}/fleetprovisioningbyclaim-latest.jar"


def device_setup(nucleus_version: str) -> dict[str, str]:
    """The downloads of a fresh host: the installer of the declared nucleus version, Amazon
    Root CA 1 and (fleet provisioning only) the provisioning plugin, with the file names the
    rendered configs and ``installCommand`` expect."""
    return {
        "nucleusInstallerUrl": f"{NUCLEUS_RELEASES}/greengrass-{nucleus_version}.zip",
        "rootCaUrl": ROOT_CA_URL,
        "rootCaFile": f"{DDA_ROOT}/{ROOT_CA}",
        "fleetProvisioningPluginUrl": FLEET_PLUGIN_URL,
        "fleetProvisioningPluginFile": FLEET_PLUGIN_JAR,
        "certificateFile": f"{DDA_ROOT}/{DEVICE_CERTIFICATE}",
        "privateKeyFile": f"{DDA_ROOT}/{DEVICE_KEY}",
    }


@dataclass(frozen=True)
class FleetConfig:
    """The config ``fleetProvisioning`` block."""

    thing_name_prefix: str
    claim_certificate_request: str
    pre_provisioning_hook_arn: str | None = None
    """A Lambda function AWS IoT asks before each registration (optional)."""


@dataclass(frozen=True)
class DeviceContext:
    """What every device piece is built from: account, region, role alias, endpoints."""

    where: StackAccount
    name_prefix: str
    region: str
    account: pulumi.Output[str]
    role_alias: aws.iot.RoleAlias
    data_endpoint: pulumi.Output[str]
    credentials_endpoint: pulumi.Output[str]
    nucleus_version: str
    tags: dict[str, str]


def iot_endpoints(where: StackAccount) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """The account's ATS data endpoint and its credentials-provider endpoint."""
    opts = where.invoke_options()
    data = aws.iot.get_endpoint_output(endpoint_type="iot:Data-ATS", opts=opts)
    credentials = aws.iot.get_endpoint_output(endpoint_type="iot:CredentialProvider", opts=opts)
    return data.endpoint_address, credentials.endpoint_address


def nucleus_config(
    *,
    thing_name: str,
    role_alias: str,
    region: str,
    data_endpoint: str,
    credentials_endpoint: str,
    nucleus_version: str,
    root: str = DDA_ROOT,
) -> str:
    """The ``config.yaml`` of "Install AWS IoT Greengrass Core software with manual resource
    provisioning", under DDA's root: the device's files are ``device.pem.crt`` (the
    certificate output), ``private.pem.key`` (the key that signed the CSR, never leaves the
    device) and Amazon Root CA 1."""
    document = {
        "system": {
            "certificateFilePath": f"{root}/{DEVICE_CERTIFICATE}",
            "privateKeyPath": f"{root}/{DEVICE_KEY}",
            "rootCaPath": f"{root}/{ROOT_CA}",
            "rootpath": root,
            "thingName": thing_name,
        },
        "services": {
            "aws.greengrass.Nucleus": {
                "componentType": "NUCLEUS",
                "version": nucleus_version,
                "configuration": {
                    "awsRegion": region,
                    "iotRoleAlias": role_alias,
                    "iotDataEndpoint": data_endpoint,
                    "iotCredEndpoint": credentials_endpoint,
                },
            }
        },
    }
    return "---\n" + yaml.safe_dump(document, sort_keys=False)


def fleet_provisioning_config(
    *,
    template: str,
    role_alias: str,
    region: str,
    data_endpoint: str,
    credentials_endpoint: str,
    nucleus_version: str,
    root: str = DDA_ROOT,
) -> str:
    """The ``config.yaml`` for the fleet provisioning plugin ("Configure the AWS IoT fleet
    provisioning plugin"); the serial number is the one value each device fills in, twice:
    ``templateParameters.SerialNumber`` and ``deviceId`` (the claim's MQTT client id, which the
    claim policy allows only as ``dda-claim-<...>``).

    ``certificatePath`` and ``privateKeyPath`` (plugin 1.2.2 and later) make the plugin write
    the device's certificate and key under the names DDA's LocalServer reads
    (``device.pem.crt``, ``private.pem.key``) instead of its defaults ``thingCert.crt`` and
    ``privKey.key``; an older plugin ignores them, and the files then need copying (see
    docs/operations.md)."""
    document = {
        "services": {
            "aws.greengrass.Nucleus": {"version": nucleus_version},
            "aws.greengrass.FleetProvisioningByClaim": {
                "configuration": {
                    "rootPath": root,
                    "awsRegion": region,
                    "iotDataEndpoint": data_endpoint,
                    "iotCredentialEndpoint": credentials_endpoint,
                    "iotRoleAlias": role_alias,
                    "provisioningTemplate": template,
                    "claimCertificatePath": f"{root}/claim-certs/claim.pem.crt",
                    "claimCertificatePrivateKeyPath": f"{root}/claim-certs/claim.private.pem.key",
                    "rootCaPath": f"{root}/{ROOT_CA}",
                    "certificatePath": f"{root}/{DEVICE_CERTIFICATE}",
                    "privateKeyPath": f"{root}/{DEVICE_KEY}",
                    "deviceId": f"{CLAIM_CLIENT_PREFIX}<this device's serial number>",
                    "templateParameters": {"SerialNumber": "<this device's serial number>"},
                }
            },
        }
    }
    return "---\n" + yaml.safe_dump(document, sort_keys=False)


def installer_command(*, root: str = DDA_ROOT, fleet: bool = False) -> str:
    """The one installer command line: ``--init-config``, never ``--provision true``.

    ``--provision true`` would create a thing, a role, a role alias and a broad IoT policy of
    the installer's own, outside the stack; with ``--init-config`` the device uses exactly the
    ones this stack declares.
    """
    plugin = f" --trusted-plugin {FLEET_PLUGIN_JAR}" if fleet else ""
    return (
        f'sudo -E java -Droot="{root}" -Dlog.store=FILE -jar {INSTALLER_JAR}{plugin}'
        " --init-config ./GreengrassInstaller/config.yaml"
        " --component-default-user ggc_user:ggc_group --setup-system-service true"
    )


def _json(document: pulumi.Output[dict[str, Any]]) -> pulumi.Output[str]:
    return document.apply(lambda d: json.dumps(d, sort_keys=False))


def core_device(
    ctx: DeviceContext, *, target: str, thing: aws.iot.Thing, thing_name: str, csr: str
) -> dict[str, Any]:
    """A listed device: certificate from its CSR, its own IoT policy, both attached."""
    opts = ctx.where.resource_options()
    certificate = aws.iot.Certificate(f"certificate-{thing_name}", csr=csr, active=True, opts=opts)
    # EXCLUSIVE_THING: this certificate can never be attached to a second thing.
    aws.iot.ThingPrincipalAttachment(
        f"certificate-thing-{thing_name}",
        thing=thing.name,
        principal=certificate.arn,
        thing_principal_type="EXCLUSIVE_THING",
        opts=opts,
    )
    document = pulumi.Output.all(ctx.account, ctx.role_alias.arn).apply(
        lambda a: core_device_policy(
            region=ctx.region, account=a[0], role_alias_arn=a[1], thing=thing_name
        )
    )
    policy = aws.iot.Policy(
        f"iot-policy-{thing_name}",
        name=f"{ctx.name_prefix}-core-{thing_name}",
        policy=_json(document),
        tags=ctx.tags,
        opts=opts,
    )
    aws.iot.PolicyAttachment(
        f"iot-policy-certificate-{thing_name}",
        policy=policy.name,
        target=certificate.arn,
        opts=opts,
    )
    config = pulumi.Output.all(
        ctx.role_alias.alias, ctx.data_endpoint, ctx.credentials_endpoint
    ).apply(
        lambda a: nucleus_config(
            thing_name=thing_name,
            role_alias=a[0],
            region=ctx.region,
            data_endpoint=a[1],
            credentials_endpoint=a[2],
            nucleus_version=ctx.nucleus_version,
        )
    )
    return {
        "target": target,
        "certificateArn": certificate.arn,
        # A certificate is public. pulumi-aws marks certificatePem secret, and `pulumi stack
        # output` prints a nested secret as "[secret]": the documented jq command would write
        # that text into device.pem.crt.
        "certificatePem": pulumi.Output.unsecret(certificate.certificate_pem),
        "iotPolicy": policy.name,
        "nucleusConfig": config,
        "installCommand": installer_command(),
    }


def fleet_provisioning(
    ctx: DeviceContext, fleet: FleetConfig, groups: dict[str, aws.iot.ThingGroup]
) -> dict[str, Any]:
    """Fleet provisioning by claim: shared policy, provisioning role, a template per platform."""
    prefix = fleet.thing_name_prefix
    opts = ctx.where.resource_options()
    device_document = pulumi.Output.all(ctx.account, ctx.role_alias.arn).apply(
        lambda a: core_device_policy(
            region=ctx.region, account=a[0], role_alias_arn=a[1], prefix=prefix
        )
    )
    device_policy = aws.iot.Policy(
        "iot-policy-fleet",
        name=f"{ctx.name_prefix}-core-fleet",
        policy=_json(device_document),
        tags=ctx.tags,
        opts=opts,
    )
    role = aws.iam.Role(
        "fleet-provisioning-role",
        assume_role_policy=_json(
            ctx.account.apply(lambda a: provisioning_trust_policy(region=ctx.region, account=a))
        ),
        tags=ctx.tags,
        opts=opts,
    )
    registration = aws.iam.RolePolicyAttachment(
        "fleet-provisioning-registration",
        role=role.name,
        policy_arn=THINGS_REGISTRATION_POLICY,
        opts=opts,
    )
    hook: dict[str, str] | None = None
    if fleet.pre_provisioning_hook_arn is not None:
        hook = {
            "target_arn": fleet.pre_provisioning_hook_arn,
            "payload_version": HOOK_PAYLOAD_VERSION,
        }
        # AWS IoT calls the function with its own service principal, for this account only.
        aws.lambda_.Permission(
            "fleet-pre-provisioning-hook-invoke",
            action="lambda:InvokeFunction",
            function=fleet.pre_provisioning_hook_arn,
            principal="iot.amazonaws.com",
            source_account=ctx.account,
            opts=opts,
        )
    templates: dict[str, Any] = {}
    names: list[str] = []
    for target, group in groups.items():
        name = f"{ctx.name_prefix}-{target.replace('_', '-')}-fleet"
        names.append(name)
        body = group.name.apply(
            lambda g: fleet_template(
                thing_name_prefix=prefix, thing_group=g, policy_name=f"{ctx.name_prefix}-core-fleet"
            )
        )
        template = aws.iot.ProvisioningTemplate(
            f"fleet-template-{target}",
            name=name,
            description=f"DDA core devices of platform {target} (pulumi-dda)",
            provisioning_role_arn=role.arn,
            template_body=_json(body),
            enabled=True,
            type="FLEET_PROVISIONING",
            pre_provisioning_hook=hook,
            tags=ctx.tags,
            # IoT validates the role when the template is created and uses the policy by name.
            opts=ctx.where.resource_options(depends_on=[registration, device_policy]),
        )
        config = pulumi.Output.all(
            ctx.role_alias.alias, ctx.data_endpoint, ctx.credentials_endpoint, template.name
        ).apply(
            lambda a: fleet_provisioning_config(
                template=a[3],
                role_alias=a[0],
                region=ctx.region,
                data_endpoint=a[1],
                credentials_endpoint=a[2],
                nucleus_version=ctx.nucleus_version,
            )
        )
        templates[target] = {
            "templateName": template.name,
            "thingGroup": group.name,
            "nucleusConfig": config,
            "installCommand": installer_command(fleet=True),
        }
    claim = aws.iot.Certificate(
        "claim-certificate", csr=fleet.claim_certificate_request, active=True, opts=opts
    )
    claim_document = ctx.account.apply(
        lambda a: claim_policy(
            region=ctx.region, account=a, templates=names, client_prefix=CLAIM_CLIENT_PREFIX
        )
    )
    claim_iot_policy = aws.iot.Policy(
        "iot-policy-claim",
        name=f"{ctx.name_prefix}-fleet-claim",
        policy=_json(claim_document),
        tags=ctx.tags,
        opts=opts,
    )
    aws.iot.PolicyAttachment(
        "iot-policy-claim-certificate", policy=claim_iot_policy.name, target=claim.arn, opts=opts
    )
    return {
        "thingNamePrefix": prefix,
        "iotPolicy": device_policy.name,
        "claimCertificateArn": claim.arn,
        "claimClientIdPrefix": CLAIM_CLIENT_PREFIX,
        "claimCertificatePem": pulumi.Output.unsecret(claim.certificate_pem),
        "templates": templates,
    }
