"""The policies the program declares allow what a core device does, and no more.

The documents are the ones the dev and prod programs registered (captured by the mocks), not
copies. They are evaluated by moto, not by code of ours:

- **Token-exchange role**: moto enforces IAM on requests. The role is created in moto with the
  declared trust and inline policy, assumed, and real S3 requests are made with its session
  credentials - the calls the nucleus's artifact downloader makes (``GetBucketLocation``, then
  ``HeadObject`` and ``GetObject``; ``S3Downloader`` in the nucleus source).
- **AWS IoT policies** (core devices, the fleet, the claim certificate): moto has no MQTT
  broker, so its IAM policy evaluator (``moto.iam.access_control.IAMPolicy``: statements,
  Allow/Deny, ``NotAction``) is asked directly. Its wildcard matcher turns a policy pattern
  into a regular expression without escaping, so the ``$`` of ``$aws/things/...`` would be an
  end-of-string anchor and no IoT topic could ever match. ``iot_policy`` swaps in IAM's
  documented wildcard semantics (``*`` any run of characters, ``?`` one, everything else
  literal, case-sensitive); ``test_moto_alone_cannot_match_iot_topics`` pins the reason, so
  the swap is dropped once moto escapes the pattern itself.

The topics and actions are the nucleus's own (its ``MqttClient`` client ids, ``IotJobsHelper``,
``ShadowDeploymentListener``, ``FleetStatusService`` and ``TelemetryAgent``), and those of the
fleet provisioning plugin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from moto.iam import policy_conditions
from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult
from stack_harness import ACCOUNT, MODEL, StackRun, project_config

MANAGED = ["dev", "prod"]
ALLOWED = PermissionResult.PERMITTED

Evaluate = Callable[[str, str], bool]
THING_NAME = "${iot:Connection.Thing.ThingName}"
IS_ATTACHED = "iot:Connection.Thing.IsAttached"


def _iam_wildcard(pattern: str, value: str) -> re.Match[str] | None:
    """IAM's resource and action wildcards: ``*`` and ``?``; every other character literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL)


def _bool_condition(expected: Any, actual: str) -> bool:
    values = expected if isinstance(expected, list) else [expected]
    return str(actual).lower() in {str(v).lower() for v in values}


def _string_like_condition(expected: Any, actual: str) -> bool:
    values = expected if isinstance(expected, list) else [expected]
    return any(_iam_wildcard(str(v), actual) for v in values)


@pytest.fixture
def iot_policy(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Evaluate]:
    """moto's evaluator for an IoT policy document: ``allowed(action, resource)``.

    ``build(document, thing=..., attached=...)`` evaluates it for an MQTT connection of
    ``thing`` as AWS IoT does: the thing policy variable is replaced by the connection's thing
    name before matching ("Thing policy variables"), and the connection's context keys are
    handed to the condition evaluator. moto evaluates only ``StringEquals`` conditions (others
    pass); ``Bool`` and ``StringLike`` are added with IAM's semantics.
    """
    monkeypatch.setattr(IAMPolicyStatement, "_match", staticmethod(_iam_wildcard))
    monkeypatch.setitem(policy_conditions.CONDITION_OPERATIONS, "Bool", _bool_condition)
    monkeypatch.setitem(
        policy_conditions.CONDITION_OPERATIONS, "StringLike", _string_like_condition
    )

    def build(
        document: dict[str, Any], thing: str | None = None, attached: bool = True
    ) -> Evaluate:
        text = json.dumps(document)
        context: dict[str, str] = {}
        if thing is not None:
            text = text.replace(THING_NAME, thing)
            context = {
                IS_ATTACHED: "true" if attached else "false",
                "iot:Connection.Thing.ThingName": thing,
            }
        policy = IAMPolicy(text)
        return lambda action, resource: (
            policy.is_action_permitted(action, resource, None, context) == ALLOWED
        )

    return build


def _document(run: StackRun, typ: str, name: str, key: str = "policy") -> dict[str, Any]:
    (found,) = [r for r in run.of_type(typ) if r.name == name]
    return dict(json.loads(found.inputs[key]))


def _things(run: StackRun) -> list[str]:
    devices: dict[str, list[str]] = project_config(run.config, "devices")
    return [thing for things in devices.values() for thing in things]


def _arn(run: StackRun) -> str:
    return f"arn:aws:iot:{run.config['aws:region']}:{ACCOUNT}"


def nucleus_requests(run: StackRun, thing: str) -> list[tuple[str, str]]:
    """(action, resource) pairs a running nucleus on ``thing`` is authorised for."""
    arn = _arn(run)
    topic, topicfilter = (
        f"{arn}:topic/$aws/things/{thing}",
        f"{arn}:topicfilter/$aws/things/{thing}",
    )
    shadow = "shadow/name/AWSManagedGreengrassV2Deployment"
    jobs = "jobs/notify-namespace-aws-gg-deployment"
    job = "jobs/0f1e2d3c-4b5a/namespace-aws-gg-deployment"
    alias = run.one("aws:iot/roleAlias:RoleAlias").outputs["arn"]
    component = f"arn:aws:greengrass:{run.config['aws:region']}:{ACCOUNT}:components:model-x"
    return [
        ("iot:Connect", f"{arn}:client/{thing}"),
        ("iot:Connect", f"{arn}:client/{thing}#2"),
        ("iot:Publish", f"{topic}/greengrassv2/health/json"),
        ("iot:Publish", f"{topic}/greengrass/health/json"),
        ("iot:Publish", f"{topic}/jobs/$next/get"),
        ("iot:Publish", f"{topic}/{job}/update"),
        ("iot:Receive", f"{topic}/{job}/update/accepted"),
        ("iot:Receive", f"{topic}/{jobs}"),
        ("iot:Subscribe", f"{topicfilter}/{jobs}"),
        ("iot:Subscribe", f"{topicfilter}/jobs/+/namespace-aws-gg-deployment/get/accepted"),
        ("iot:Publish", f"{topic}/{shadow}/update"),
        ("iot:Publish", f"{topic}/{shadow}/get"),
        ("iot:Subscribe", f"{topicfilter}/{shadow}/update/accepted"),
        ("iot:Receive", f"{topic}/{shadow}/get/accepted"),
        ("iot:GetThingShadow", f"{arn}:thing/{thing}"),
        ("iot:UpdateThingShadow", f"{arn}:thing/{thing}"),
        ("iot:AssumeRoleWithCertificate", alias),
        ("greengrass:ResolveComponentCandidates", "*"),
        ("greengrass:GetComponentVersionArtifact", f"{component}:versions:1.0.0"),
        ("greengrass:GetDeploymentConfiguration", f"{arn}:thing/{thing}"),
        ("greengrass:ListThingGroupsForCoreDevice", f"{arn}:thing/{thing}"),
    ]


def _per_thing(action: str, resource: str) -> bool:
    """Whether a request is one device's own. The role alias is shared by design; the four
    Greengrass data-plane actions are granted on "*" as AWS's minimal policy does (the service
    answers them for the certificate's own thing)."""
    return not (action.startswith("greengrass:") or ":rolealias/" in resource)


def outside_requests(run: StackRun) -> list[tuple[str, str]]:
    """What no core device of this stack may do, whatever its name."""
    arn = _arn(run)
    return [
        ("iot:Publish", f"{arn}:topic/factory/line1/defects"),
        ("iot:Subscribe", f"{arn}:topicfilter/#"),
        ("iot:Publish", f"{arn}:topic/$aws/certificates/create/json"),
        ("iot:AssumeRoleWithCertificate", f"{arn}:rolealias/GreengrassCoreTokenExchangeRoleAlias"),
        ("greengrass:CreateDeployment", "*"),
        ("iot:CreateThing", f"{arn}:thing/anything"),
        ("iot:UpdateCertificate", f"{arn}:cert/abc"),
    ]


def test_moto_alone_cannot_match_iot_topics() -> None:
    """Why ``iot_policy`` replaces moto's matcher: unescaped, ``$aws`` never matches."""
    resource = "arn:aws:iot:eu-west-1:111122223333:topic/$aws/things/t/jobs/*"
    document = {"Statement": [{"Effect": "Allow", "Action": "iot:Publish", "Resource": resource}]}
    topic = resource.replace("*", "notify")
    assert IAMPolicy(json.dumps(document)).is_action_permitted("iot:Publish", topic) != ALLOWED


@pytest.mark.parametrize("stack", MANAGED)
def test_core_device_policy_allows_the_nucleus_on_its_own_thing_only(
    runs: dict[str, StackRun], stack: str, iot_policy: Callable[..., Evaluate]
) -> None:
    run = runs[stack]
    things = _things(run)
    for thing in things:
        allowed = iot_policy(_document(run, "aws:iot/policy:Policy", f"iot-policy-{thing}"))
        for action, resource in nucleus_requests(run, thing):
            assert allowed(action, resource), (thing, action, resource)
        # Another listed device, a name that merely extends this one, a fleet device.
        others = [t for t in things if t != thing] + [f"{thing}0", f"{thing}-b"]
        others.append(project_config(run.config, "fleetProvisioning")["thingNamePrefix"] + "42")
        for other in others:
            for action, resource in nucleus_requests(run, other):
                if not _per_thing(action, resource):
                    continue
                assert not allowed(action, resource), (thing, action, resource)
        for action, resource in outside_requests(run):
            assert not allowed(action, resource), (thing, action, resource)


def _mqtt(action: str, resource: str) -> bool:
    """Requests over the device's MQTT connection, where AWS IoT resolves thing variables."""
    return action in {"iot:Connect", "iot:Publish", "iot:Receive", "iot:Subscribe"}


@pytest.mark.parametrize("stack", MANAGED)
def test_fleet_policy_covers_its_prefix_and_no_listed_device(
    runs: dict[str, StackRun], stack: str, iot_policy: Callable[..., Evaluate]
) -> None:
    run = runs[stack]
    prefix = project_config(run.config, "fleetProvisioning")["thingNamePrefix"]
    document = _document(run, "aws:iot/policy:Policy", "iot-policy-fleet")
    for serial in ("0001", "SN-7734"):
        allowed = iot_policy(document, thing=prefix + serial)
        for action, resource in nucleus_requests(run, prefix + serial):
            if resource.endswith("#2"):
                continue  # not resolvable for a non-exclusive attachment; see core_device_policy
            assert allowed(action, resource), (action, resource)
        for thing in _things(run):
            for action, resource in nucleus_requests(run, thing):
                if not _per_thing(action, resource):
                    continue
                assert not allowed(action, resource), (thing, action, resource)
        for action, resource in outside_requests(run):
            assert not allowed(action, resource), (action, resource)


@pytest.mark.parametrize("stack", MANAGED)
def test_one_fleet_device_cannot_act_as_another(
    runs: dict[str, StackRun], stack: str, iot_policy: Callable[..., Evaluate]
) -> None:
    """The shared fleet policy names the connection's own thing in every MQTT rule: device
    0001 cannot connect with 0002's client id (which would disconnect 0002) nor use its
    topics."""
    run = runs[stack]
    prefix = project_config(run.config, "fleetProvisioning")["thingNamePrefix"]
    document = _document(run, "aws:iot/policy:Policy", "iot-policy-fleet")
    allowed = iot_policy(document, thing=f"{prefix}0001")
    other = [(a, r) for a, r in nucleus_requests(run, f"{prefix}0002") if _mqtt(a, r)]
    assert other
    for action, resource in other:
        assert not allowed(action, resource), (action, resource)


@pytest.mark.parametrize("stack", MANAGED)
def test_fleet_policy_connects_only_a_certificate_attached_to_a_prefixed_thing(
    runs: dict[str, StackRun], stack: str, iot_policy: Callable[..., Evaluate]
) -> None:
    run = runs[stack]
    arn = _arn(run)
    prefix = project_config(run.config, "fleetProvisioning")["thingNamePrefix"]
    document = _document(run, "aws:iot/policy:Policy", "iot-policy-fleet")
    thing = f"{prefix}0001"
    connect = ("iot:Connect", f"{arn}:client/{thing}")
    assert iot_policy(document, thing=thing)(*connect)
    assert not iot_policy(document, thing=thing, attached=False)(*connect)
    # The policy attached by hand to a thing outside the prefix does not let it connect.
    outsider = "line9-camera"
    assert not iot_policy(document, thing=outsider)("iot:Connect", f"{arn}:client/{outsider}")


@pytest.mark.parametrize("stack", MANAGED)
def test_claim_certificate_can_only_provision(
    runs: dict[str, StackRun], stack: str, iot_policy: Callable[..., Evaluate]
) -> None:
    run = runs[stack]
    arn = _arn(run)
    allowed = iot_policy(_document(run, "aws:iot/policy:Policy", "iot-policy-claim"))
    templates = [
        t.inputs["name"] for t in run.of_type("aws:iot/provisioningTemplate:ProvisioningTemplate")
    ]
    assert templates
    plugin = [
        ("iot:Connect", f"{arn}:client/dda-claim-SN-7734"),
        ("iot:Publish", f"{arn}:topic/$aws/certificates/create/json"),
        ("iot:Subscribe", f"{arn}:topicfilter/$aws/certificates/create/json/accepted"),
        ("iot:Receive", f"{arn}:topic/$aws/certificates/create/json/accepted"),
        ("iot:Publish", f"{arn}:topic/$aws/certificates/create-from-csr/json"),
        ("iot:Receive", f"{arn}:topic/$aws/certificates/create-from-csr/json/rejected"),
    ]
    for name in templates:
        plugin += [
            ("iot:Publish", f"{arn}:topic/$aws/provisioning-templates/{name}/provision/json"),
            (
                "iot:Subscribe",
                f"{arn}:topicfilter/$aws/provisioning-templates/{name}/provision/json/accepted",
            ),
            (
                "iot:Receive",
                f"{arn}:topic/$aws/provisioning-templates/{name}/provision/json/accepted",
            ),
        ]
    for action, resource in plugin:
        assert allowed(action, resource), (action, resource)
    denied = [
        ("iot:Publish", f"{arn}:topic/$aws/provisioning-templates/someone-elses/provision/json"),
        ("iot:Publish", f"{arn}:topic/$aws/things/{_things(run)[0]}/shadow/update"),
        ("iot:AssumeRoleWithCertificate", run.one("aws:iot/roleAlias:RoleAlias").outputs["arn"]),
        ("greengrass:ResolveComponentCandidates", "*"),
        ("iot:Connect", "arn:aws:iot:us-east-1:999999999999:client/x"),
    ]
    for action, resource in denied:
        assert not allowed(action, resource), (action, resource)


@pytest.mark.parametrize("stack", MANAGED)
def test_claim_certificate_cannot_take_a_core_device_client_id(
    runs: dict[str, StackRun], stack: str, iot_policy: Callable[..., Evaluate]
) -> None:
    """The claim key is on every fleet device: connecting as a core device's client id would
    disconnect that device. Only ``dda-claim-*`` client ids are allowed."""
    run = runs[stack]
    arn = _arn(run)
    prefix = project_config(run.config, "fleetProvisioning")["thingNamePrefix"]
    allowed = iot_policy(_document(run, "aws:iot/policy:Policy", "iot-policy-claim"))
    taken = [*_things(run), f"{_things(run)[0]}#2", f"{prefix}0001", "3f2a9c1e-uuid", "x"]
    for client in taken:
        assert not allowed("iot:Connect", f"{arn}:client/{client}"), client


# --- the token-exchange role, enforced by moto on real S3 requests -------------------------

PACKAGE_TARGET = "x86_64-cpu"
ELSEWHERE = "someone-elses-bucket"


class Device:
    """S3 as a core device sees it: the assumed token-exchange role's session, IAM enforced."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def can(self, call: Callable[[], object]) -> bool:
        @set_initial_no_auth_action_count(0)  # type: ignore[untyped-decorator]
        def enforced() -> str:
            try:
                call()
            except ClientError as error:
                return str(error.response["Error"]["Code"])
            return "allowed"

        outcome = enforced()
        # Denied by IAM, not failing for another reason (a missing key would be NoSuchKey).
        assert outcome in {"allowed", "AccessDenied", "403"}, outcome
        return bool(outcome == "allowed")


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _local_server_objects(run: StackRun) -> list[tuple[str, str]]:
    """The objects the LocalServer recipes name (the model's ``local_server_artifacts``)."""
    (model,) = run.of_type(MODEL)
    uris = {u for uris in model.outputs["local_server_artifacts"].values() for u in uris}
    return [(b, unquote(k)) for b, k in map(_split, sorted(uris))]


@pytest.fixture
def as_device(runs: dict[str, StackRun]) -> Iterator[Callable[..., Device]]:
    """``as_device(run, policy=None)``: moto holding the stack's buckets and objects and the
    role with the program's trust and inline policy (or ``policy``), assumed like a device."""
    with mock_aws():

        def build(run: StackRun, policy: dict[str, Any] | None = None) -> Device:
            region = run.config["aws:region"]
            s3 = boto3.client("s3", region_name=region)
            package = _split(run.outputs["components"][PACKAGE_TARGET]["artifact_uri"])
            prefix = project_config(run.config, "artifactPrefix", "")
            objects = [
                package,
                (package[0], f"{prefix}notes/credentials.txt"),
                (package[0], "model_artifacts/outside-the-prefix.zip"),
                *_local_server_objects(run),
                *[(b, "other.Component/1.0.0/x.zip") for b, _ in _local_server_objects(run)],
                *[(b, k.replace("/1.0.0/", "/1.1.0/")) for b, k in _local_server_objects(run)],
                (ELSEWHERE, f"{prefix}model_artifacts/x.zip"),
            ]
            for bucket in sorted({b for b, _ in objects}):
                s3.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
                )
            for bucket, key in objects:
                s3.put_object(Bucket=bucket, Key=key, Body=b"bytes of " + key.encode())
            iam = boto3.client("iam", region_name=region)
            role = _by_type_name(run, "aws:iam/role:Role", "token-exchange-role")
            created = iam.create_role(
                RoleName="token-exchange-role",
                AssumeRolePolicyDocument=role.inputs["assumeRolePolicy"],
            )["Role"]
            inline = run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]
            iam.put_role_policy(
                RoleName="token-exchange-role",
                PolicyName="token-exchange-artifacts",
                PolicyDocument=json.dumps(policy) if policy else inline,
            )
            credentials = boto3.client("sts", region_name=region).assume_role(
                RoleArn=created["Arn"], RoleSessionName="dda-core-device"
            )["Credentials"]
            return Device(
                boto3.client(
                    "s3",
                    region_name=region,
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                )
            )

        yield build


def _by_type_name(run: StackRun, typ: str, name: str) -> Any:
    (found,) = [r for r in run.of_type(typ) if r.name == name]
    return found


@pytest.mark.parametrize("stack", MANAGED)
def test_device_role_downloads_the_package_and_the_local_server(
    runs: dict[str, StackRun], stack: str, as_device: Callable[..., Device]
) -> None:
    run = runs[stack]
    device = as_device(run)
    bucket, key = _split(run.outputs["components"][PACKAGE_TARGET]["artifact_uri"])
    # The nucleus's S3Downloader: the bucket's region first, then size, then the bytes.
    assert device.can(lambda: device.s3.get_bucket_location(Bucket=bucket))
    assert device.can(lambda: device.s3.head_object(Bucket=bucket, Key=key))
    assert device.can(lambda: device.s3.get_object(Bucket=bucket, Key=key))
    for ls_bucket, ls_key in _local_server_objects(run):
        assert device.can(lambda b=ls_bucket: device.s3.get_bucket_location(Bucket=b))
        assert device.can(lambda b=ls_bucket, k=ls_key: device.s3.get_object(Bucket=b, Key=k))


@pytest.mark.parametrize("stack", MANAGED)
def test_device_role_reads_nothing_else(
    runs: dict[str, StackRun], stack: str, as_device: Callable[..., Device]
) -> None:
    run = runs[stack]
    device = as_device(run)
    s3 = device.s3
    bucket, key = _split(run.outputs["components"][PACKAGE_TARGET]["artifact_uri"])
    prefix = project_config(run.config, "artifactPrefix", "")
    denied: list[Callable[[], object]] = [
        lambda: s3.get_object(Bucket=bucket, Key=f"{prefix}notes/credentials.txt"),
        lambda: s3.get_object(Bucket=bucket, Key="model_artifacts/outside-the-prefix.zip"),
        lambda: s3.list_objects_v2(Bucket=bucket),
        lambda: s3.put_object(Bucket=bucket, Key=key + ".new", Body=b"x"),
        lambda: s3.delete_object(Bucket=bucket, Key=key),
        lambda: s3.get_bucket_location(Bucket=ELSEWHERE),
        lambda: s3.get_object(Bucket=ELSEWHERE, Key=f"{prefix}model_artifacts/x.zip"),
    ]
    for ls_bucket, ls_key in _local_server_objects(run):
        denied.append(
            lambda b=ls_bucket: s3.get_object(Bucket=b, Key="other.Component/1.0.0/x.zip")
        )
        # Exactly the objects the recipes name: not another version's beside them.
        sibling = ls_key.replace("/1.0.0/", "/1.1.0/")
        denied.append(lambda b=ls_bucket, k=sibling: s3.get_object(Bucket=b, Key=k))
    for call in denied:
        assert not device.can(call)


def test_the_former_policy_fails_where_the_nucleus_starts(
    runs: dict[str, StackRun], as_device: Callable[..., Device]
) -> None:
    """The evaluator tells the defect apart: ``s3:GetObject`` alone cannot start a download."""
    run = runs["dev"]
    bucket, key = _split(run.outputs["components"][PACKAGE_TARGET]["artifact_uri"])
    prefix = project_config(run.config, "artifactPrefix", "")
    former = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}model_artifacts/*",
            }
        ],
    }
    device = as_device(run, policy=former)
    assert device.can(lambda: device.s3.get_object(Bucket=bucket, Key=key))
    assert not device.can(lambda: device.s3.get_bucket_location(Bucket=bucket))
