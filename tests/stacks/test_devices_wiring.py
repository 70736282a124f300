"""Wiring of the device pieces under the mocks: certificates, IoT policies, fleet provisioning,
and the outputs an operator brings a device up with."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from stack_harness import (
    ACCOUNT,
    ENDPOINTS,
    Registered,
    StackRun,
    project_config,
    run_stack,
    stack_config,
)

CERTIFICATE = "aws:iot/certificate:Certificate"
IOT_POLICY = "aws:iot/policy:Policy"
POLICY_ATTACHMENT = "aws:iot/policyAttachment:PolicyAttachment"
THING_ATTACHMENT = "aws:iot/thingPrincipalAttachment:ThingPrincipalAttachment"
TEMPLATE = "aws:iot/provisioningTemplate:ProvisioningTemplate"
MANAGED = ["dev", "prod"]


def _things(run: StackRun) -> dict[str, str]:
    """Thing name -> target, from the stack's config."""
    devices: dict[str, list[str]] = project_config(run.config, "devices")
    return {thing: target for target, things in devices.items() for thing in things}


def _by_name(run: StackRun, typ: str) -> dict[str, Registered]:
    return {r.name: r for r in run.of_type(typ)}


def _role_alias_arn(run: StackRun) -> str:
    return str(run.one("aws:iot/roleAlias:RoleAlias").outputs["arn"])


@pytest.mark.parametrize("stack", MANAGED)
def test_each_thing_gets_a_certificate_from_its_own_csr_and_no_key(
    runs: dict[str, StackRun], stack: str
) -> None:
    run = runs[stack]
    csrs: dict[str, str] = project_config(run.config, "certificateRequests")
    certificates = _by_name(run, CERTIFICATE)
    for thing in _things(run):
        certificate = certificates[f"certificate-{thing}"]
        assert certificate.inputs["csr"].strip() == csrs[thing].strip()
        assert certificate.inputs["active"] is True
    # Only CSRs go in: no certificate is asked to make a key, none carries a key in state.
    for certificate in certificates.values():
        assert set(certificate.inputs) == {"csr", "active"}
        assert "privateKey" not in certificate.outputs
    assert len(certificates) == len(_things(run)) + 1  # and the fleet's claim certificate


@pytest.mark.parametrize("stack", MANAGED)
def test_each_certificate_is_attached_exclusively_to_its_thing_with_its_own_policy(
    runs: dict[str, StackRun], stack: str
) -> None:
    run = runs[stack]
    certificates = _by_name(run, CERTIFICATE)
    policies = _by_name(run, IOT_POLICY)
    attachments = {
        (a.inputs["thing"], a.inputs["principal"]): a for a in run.of_type(THING_ATTACHMENT)
    }
    policy_attachments = {
        (a.inputs["policy"], a.inputs["target"]) for a in run.of_type(POLICY_ATTACHMENT)
    }
    for thing in _things(run):
        arn = certificates[f"certificate-{thing}"].outputs["arn"]
        assert attachments[(thing, arn)].inputs["thingPrincipalType"] == "EXCLUSIVE_THING"
        policy = policies[f"iot-policy-{thing}"]
        assert policy.inputs["name"] == f"dda-core-{thing}"
        assert (policy.inputs["name"], arn) in policy_attachments
        # The policy names this thing and no other listed one.
        document = policy.inputs["policy"]
        assert f"thing/{thing}" in document
        assert _role_alias_arn(run) in document
        assert not any(f"things/{other}/" in document for other in _things(run) if other != thing)
    assert len(attachments) == len(_things(run))


@pytest.mark.parametrize("stack", MANAGED)
def test_outputs_bring_a_device_up(runs: dict[str, StackRun], stack: str) -> None:
    run = runs[stack]
    region = run.config["aws:region"]
    data = ENDPOINTS["iot:Data-ATS"].format(region=region)
    credentials = ENDPOINTS["iot:CredentialProvider"].format(region=region)
    assert run.outputs["iotDataEndpoint"] == data
    assert run.outputs["iotCredentialsEndpoint"] == credentials
    certificates = _by_name(run, CERTIFICATE)
    assert set(run.outputs["devices"]) == set(_things(run))
    for thing, target in _things(run).items():
        device = run.outputs["devices"][thing]
        certificate = certificates[f"certificate-{thing}"]
        assert device["target"] == target
        assert device["thingGroup"] == f"dda-{target.replace('_', '-')}"
        assert device["certificateArn"] == certificate.outputs["arn"]
        assert device["certificatePem"] == certificate.outputs["certificatePem"]
        assert device["iotPolicy"] == f"dda-core-{thing}"
        config = yaml.safe_load(device["nucleusConfig"])
        root = "/aws_dda/greengrass/v2"
        assert config["system"] == {
            "certificateFilePath": f"{root}/device.pem.crt",
            "privateKeyPath": f"{root}/private.pem.key",
            "rootCaPath": f"{root}/AmazonRootCA1.pem",
            "rootpath": root,
            "thingName": thing,
        }
        nucleus = config["services"]["aws.greengrass.Nucleus"]
        assert nucleus["componentType"] == "NUCLEUS"
        assert nucleus["version"] == str(project_config(run.config, "nucleusVersion"))
        assert nucleus["configuration"] == {
            "awsRegion": region,
            "iotRoleAlias": run.outputs["roleAlias"],
            "iotDataEndpoint": data,
            "iotCredEndpoint": credentials,
        }
        command = device["installCommand"]
        assert f'-Droot="{root}"' in command
        assert "--init-config" in command
        assert "--provision" not in command


@pytest.mark.parametrize("stack", MANAGED)
def test_fleet_provisioning_templates_role_and_claim(runs: dict[str, StackRun], stack: str) -> None:
    run = runs[stack]
    fleet = project_config(run.config, "fleetProvisioning")
    prefix = fleet["thingNamePrefix"]
    roles = _by_name(run, "aws:iam/role:Role")
    role = roles["fleet-provisioning-role"]
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "iot.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:iot:{run.config['aws:region']}:{ACCOUNT}:*"
                    },
                },
            }
        ],
    }
    (registration,) = run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert registration.inputs == {
        "role": role.outputs["name"],
        "policyArn": "arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration",
    }
    policies = _by_name(run, IOT_POLICY)
    fleet_policy = policies["iot-policy-fleet"].inputs["name"]
    groups = {
        g.name.removeprefix("thing-group-"): g.inputs["name"]
        for g in run.of_type("aws:iot/thingGroup:ThingGroup")
    }
    templates = {t.name.removeprefix("fleet-template-"): t for t in run.of_type(TEMPLATE)}
    assert set(templates) == set(groups)
    for target, template in templates.items():
        assert template.inputs["enabled"] is True
        assert template.inputs["type"] == "FLEET_PROVISIONING"
        assert template.inputs["provisioningRoleArn"] == role.outputs["arn"]
        body = json.loads(template.inputs["templateBody"])
        thing = body["Resources"]["thing"]["Properties"]
        assert thing["ThingGroups"] == [groups[target]]
        assert thing["ThingName"] == {"Fn::Join": ["", [prefix, {"Ref": "SerialNumber"}]]}
        assert body["Resources"]["policy"]["Properties"] == {"PolicyName": fleet_policy}
        assert body["Resources"]["certificate"]["Properties"]["CertificateId"] == {
            "Ref": "AWS::IoT::Certificate::Id"
        }
        out = run.outputs["fleetProvisioning"]["templates"][target]
        assert out["templateName"] == template.inputs["name"]
        plugin = yaml.safe_load(out["nucleusConfig"])["services"][
            "aws.greengrass.FleetProvisioningByClaim"
        ]
        assert plugin["configuration"]["provisioningTemplate"] == template.inputs["name"]
        assert plugin["configuration"]["iotRoleAlias"] == run.outputs["roleAlias"]
        # The plugin writes the names DDA's LocalServer reads, and connects as a claim client.
        root = "/aws_dda/greengrass/v2"
        assert plugin["configuration"]["certificatePath"] == f"{root}/device.pem.crt"
        assert plugin["configuration"]["privateKeyPath"] == f"{root}/private.pem.key"
        assert plugin["configuration"]["deviceId"].startswith("dda-claim-")
        assert "--trusted-plugin" in out["installCommand"]
    claim = _by_name(run, CERTIFICATE)["claim-certificate"]
    assert claim.inputs["csr"].strip() == fleet["claimCertificateRequest"].strip()
    claim_policy = policies["iot-policy-claim"]
    assert (claim_policy.inputs["name"], claim.outputs["arn"]) in {
        (a.inputs["policy"], a.inputs["target"]) for a in run.of_type(POLICY_ATTACHMENT)
    }
    document = json.loads(claim_policy.inputs["policy"])
    named = {
        r.split("/provisioning-templates/")[1].split("/")[0]
        for s in document["Statement"]
        for r in _listed(s["Resource"])
        if "/provisioning-templates/" in r
    }
    assert named == {t.inputs["name"] for t in templates.values()}
    assert run.outputs["fleetProvisioning"]["claimCertificateArn"] == claim.outputs["arn"]


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_without_fleet_provisioning_nothing_of_it_is_declared() -> None:
    run = run_stack("dev", overrides={"pulumi-dda:fleetProvisioning": None})
    assert run.of_type(TEMPLATE) == []
    assert "claim-certificate" not in _by_name(run, CERTIFICATE)
    assert "fleet-provisioning-role" not in _by_name(run, "aws:iam/role:Role")
    assert "fleetProvisioning" not in run.outputs
    assert set(run.outputs["devices"]) == set(_things(run))


def test_local_stack_has_no_device_pieces(runs: dict[str, StackRun]) -> None:
    run = runs["local"]
    for key in ("devices", "fleetProvisioning", "iotDataEndpoint", "roleAlias"):
        assert key not in run.outputs


def _dev_with(**overrides: Any) -> None:
    run_stack("dev", overrides={f"pulumi-dda:{k}": v for k, v in overrides.items()})


def _dev_config(key: str) -> Any:
    return stack_config("dev")[f"pulumi-dda:{key}"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"certificateRequests": {}}, "has no CSR for"),
        ({"nucleusVersion": None}, "nucleusVersion"),
        # The policies as declared need nucleus 2.5.0, the CLI IPC service 2.6.0.
        (
            {"nucleusVersion": "2.4.0"},
            r"^pulumi-dda:nucleusVersion '2\.4\.0' must be a version 2\.6\.0",
        ),
        (
            {"nucleusVersion": "2.5.1"},
            r"^pulumi-dda:nucleusVersion '2\.5\.1' must be a version 2\.6\.0",
        ),
        ({"nucleusVersion": "latest"}, r"^pulumi-dda:nucleusVersion 'latest' must be a version"),
        ({"greengrassCli": None}, r"^pulumi-dda:greengrassCli must be"),
        ({"greengrassCli": {"componentVersion": "2.5.6"}}, "greengrassCli.componentVersion"),
        ({"logManager": {"componentVersion": "latest"}}, "logManager.componentVersion"),
        ({"devices": {"x86_64-cpu": ["thing:with:colons"]}}, "thing names must be"),
    ],
)
def test_config_mistakes_stop_the_program(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        _dev_with(**overrides)


@pytest.mark.parametrize("stack", MANAGED)
def test_device_setup_names_the_downloads_of_the_declared_versions(
    runs: dict[str, StackRun], stack: str
) -> None:
    run = runs[stack]
    setup = run.outputs["deviceSetup"]
    version = project_config(run.config, "nucleusVersion")
    assert setup["nucleusInstallerUrl"].endswith(f"/releases/greengrass-{version}.zip")
    assert setup["rootCaUrl"].endswith("/AmazonRootCA1.pem")
    assert setup["fleetProvisioningPluginUrl"].endswith(".jar")
    # The files the rendered nucleus config and the installer command read.
    config = yaml.safe_load(next(iter(run.outputs["devices"].values()))["nucleusConfig"])
    assert setup["rootCaFile"] == config["system"]["rootCaPath"]
    assert setup["certificateFile"] == config["system"]["certificateFilePath"]
    assert setup["privateKeyFile"] == config["system"]["privateKeyPath"]
    for template in run.outputs["fleetProvisioning"]["templates"].values():
        assert setup["fleetProvisioningPluginFile"] in template["installCommand"]


def test_nucleus_version_error_is_one_line_naming_the_key() -> None:
    with pytest.raises(Exception, match="nucleusVersion") as raised:
        _dev_with(nucleusVersion="2.4.0")
    (line,) = str(raised.value).strip().splitlines()
    assert line.startswith("pulumi-dda:nucleusVersion")


@pytest.mark.parametrize("version", ["2.6.0", "2.12.0", "3.0.0"])
def test_supported_nucleus_versions_are_accepted(version: str) -> None:
    run = run_stack("dev", overrides={"pulumi-dda:nucleusVersion": version})
    for device in run.outputs["devices"].values():
        nucleus = yaml.safe_load(device["nucleusConfig"])["services"]["aws.greengrass.Nucleus"]
        assert nucleus["version"] == version


def test_greengrass_cli_is_refused_on_an_unmanaged_stack() -> None:
    overrides = {"pulumi-dda:greengrassCli": {"componentVersion": "2.12.0"}}
    with pytest.raises(Exception, match="greengrassCli only apply when manageInfrastructure"):
        run_stack("local", overrides=overrides)


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("dda-claim-", "overlaps 'dda-claim-'"),
        ("dda-claim-line1-", "overlaps 'dda-claim-'"),
        ("dda-", "overlaps 'dda-claim-'"),
    ],
)
def test_fleet_prefix_may_not_overlap_the_claim_client_ids(prefix: str, message: str) -> None:
    fleet = dict(_dev_config("fleetProvisioning"))
    fleet["thingNamePrefix"] = prefix
    with pytest.raises(Exception, match=message):
        _dev_with(fleetProvisioning=fleet)


def test_listed_thing_with_a_claim_client_id_is_refused() -> None:
    devices = {"x86_64-cpu": ["dda-claim-x86-01"], "jetson-xavier": ["dda-dev-line1-jetson-01"]}
    csrs = dict(_dev_config("certificateRequests"))
    csrs["dda-claim-x86-01"] = csrs.pop("dda-dev-line1-x86-01")
    with pytest.raises(Exception, match="client ids reserved for claim certificates"):
        _dev_with(devices=devices, certificateRequests=csrs)


def test_pre_provisioning_hook_is_attached_to_every_template() -> None:
    hook = "arn:aws:lambda:eu-west-1:111122223333:function:dda-check-serial"
    fleet = {**_dev_config("fleetProvisioning"), "preProvisioningHookArn": hook}
    run = run_stack("dev", overrides={"pulumi-dda:fleetProvisioning": fleet})
    templates = run.of_type(TEMPLATE)
    assert templates
    for template in templates:
        assert template.inputs["preProvisioningHook"] == {
            "targetArn": hook,
            "payloadVersion": "2020-04-01",
        }
    (permission,) = run.of_type("aws:lambda/permission:Permission")
    assert permission.inputs["function"] == hook
    assert permission.inputs["principal"] == "iot.amazonaws.com"
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["sourceAccount"] == ACCOUNT
    # Without the key no template has a hook (the documented default).
    assert all("preProvisioningHook" not in t.inputs for t in runs_dev().of_type(TEMPLATE))


def runs_dev() -> StackRun:
    return run_stack("dev")


def test_pre_provisioning_hook_must_be_a_lambda_function() -> None:
    fleet = {**_dev_config("fleetProvisioning"), "preProvisioningHookArn": "check-serial"}
    with pytest.raises(Exception, match="preProvisioningHookArn is not a Lambda function ARN"):
        _dev_with(fleetProvisioning=fleet)


def test_csr_for_a_thing_that_is_not_listed_is_refused() -> None:
    csrs = dict(_dev_config("certificateRequests"))
    csrs["dda-dev-typo-01"] = next(iter(csrs.values()))
    with pytest.raises(Exception, match="are not things in"):
        _dev_with(certificateRequests=csrs)


def test_listed_thing_inside_the_fleet_prefix_is_refused() -> None:
    fleet = dict(_dev_config("fleetProvisioning"))
    fleet["thingNamePrefix"] = "dda-dev-line1-"
    with pytest.raises(Exception, match=r"starts with fleetProvisioning\.thingNamePrefix"):
        _dev_with(fleetProvisioning=fleet)


def test_device_keys_are_refused_on_an_unmanaged_stack() -> None:
    with pytest.raises(Exception, match="only apply when manageInfrastructure is true"):
        run_stack("local", overrides={"pulumi-dda:nucleusVersion": "2.12.0"})


def test_empty_device_list_only_with_fleet_provisioning() -> None:
    devices = {"x86_64-cpu": [], "jetson-xavier": ["dda-dev-line1-jetson-01"]}
    csrs = {
        "dda-dev-line1-jetson-01": _dev_config("certificateRequests")["dda-dev-line1-jetson-01"]
    }
    run = run_stack(
        "dev", overrides={"pulumi-dda:devices": devices, "pulumi-dda:certificateRequests": csrs}
    )
    assert set(run.outputs["devices"]) == {"dda-dev-line1-jetson-01"}
    assert set(run.outputs["fleetProvisioning"]["templates"]) == {"x86_64-cpu", "jetson-xavier"}
    with pytest.raises(Exception, match="must be a non-empty list"):
        _dev_with(devices=devices, certificateRequests=csrs, fleetProvisioning=None)
