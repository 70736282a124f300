"""The policy documents a DDA core device lives by, as pure functions of names and ARNs.

Nothing here declares a resource: ``dda_stack`` and ``dda_devices`` turn these documents into
IAM and AWS IoT policies, and the tests evaluate the very same documents. Each function names
the AWS page its shape comes from; where this project is stricter than the page, the docstring
says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

Document = dict[str, Any]
VERSION = "2012-10-17"
# The four data-plane actions of "Minimal AWS IoT policy for AWS IoT Greengrass V2 core devices"
# (Greengrass developer guide, "Device authentication and authorization"): resolve and download
# components, fetch large deployment documents (nucleus >= 2.3.0) and the thing-group hierarchy
# (nucleus >= 2.5.0). The page grants them on "*".
GREENGRASS_DATA_PLANE_ACTIONS = [
    "greengrass:GetComponentVersionArtifact",
    "greengrass:ResolveComponentCandidates",
    "greengrass:GetDeploymentConfiguration",
    "greengrass:ListThingGroupsForCoreDevice",
]
LOG_ACTIONS = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogStreams",
]


@dataclass(frozen=True)
class S3Location:
    """``s3://bucket/prefix``: a bucket and a key prefix (empty, or ending in "/")."""

    bucket: str
    prefix: str

    @property
    def objects_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}/{self.prefix}*"

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"


def s3_object_arn(uri: str) -> str:
    """``s3://bucket/key`` (as a recipe names it, the key possibly percent-encoded) → the
    object's ARN."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return f"arn:aws:s3:::{bucket}/{unquote(key)}"


def token_exchange_trust_policy() -> Document:
    """Only the AWS IoT credentials provider may assume the role, exactly as AWS documents it.

    "Authorize core devices to interact with AWS services" (Greengrass developer guide) gives
    this trust policy and no condition: the role alias and the device's IoT policy
    (``iot:AssumeRoleWithCertificate`` on that alias) decide which certificates get credentials.
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "credentials.iot.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def token_exchange_policy(
    *,
    artifacts: S3Location,
    local_server: list[str],
    logs_arn: str | None,
) -> Document:
    """What a core device may do with its role-alias credentials, and nothing more.

    - S3: the nucleus's artifact downloader calls ``GetBucketLocation`` on the artifact's bucket
      before ``HeadObject``/``GetObject`` (it fails with "S3 GetBucketLocation returns 403
      Access Denied" otherwise; Greengrass troubleshooting guide), so each bucket a recipe
      points at needs ``s3:GetBucketLocation`` on the bucket and ``s3:GetObject`` on the
      objects. That is the model packages ``DdaModelComponent`` uploads
      (``<prefix>model_artifacts/``) and exactly the objects the DDA LocalServer recipes name
      (``local_server``: their ``s3://`` artifact URIs, from
      ``DdaModelComponent.local_server_artifacts``; every model recipe depends on its
      platform's LocalServer). No ``ListBucket``: a missing key is a 403, not a 404. The
      artifact bucket uses SSE-S3, so no ``kms:Decrypt``.
    - Logs: the four actions the LogManager component needs ("Log manager", Greengrass
      developer guide), only when LogManager is deployed (``logs_arn`` given), narrowed to the
      ``/aws/greengrass/*`` log groups of this account and region.
    """
    objects = sorted({s3_object_arn(uri) for uri in local_server})
    buckets = sorted({artifacts.bucket_arn, *(arn.split("/", 1)[0] for arn in objects)})
    statements: list[Document] = [
        {
            "Sid": "ArtifactBucketLocation",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": buckets,
        },
        {
            "Sid": "ReadModelArtifacts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{artifacts.bucket}/{artifacts.prefix}model_artifacts/*",
        },
    ]
    if objects:
        statements.append(
            {
                "Sid": "ReadLocalServerArtifacts",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": objects,
            }
        )
    if logs_arn is not None:
        statements.append(
            {
                "Sid": "GreengrassLogs",
                "Effect": "Allow",
                "Action": LOG_ACTIONS,
                "Resource": logs_arn,
            }
        )
    return {"Version": VERSION, "Statement": statements}


def greengrass_log_groups_arn(region: str, account: str) -> str:
    """The log groups LogManager writes (``/aws/greengrass/GreengrassSystemComponent/...``,
    ``/aws/greengrass/UserComponent/...``) and their streams."""
    return f"arn:aws:logs:{region}:{account}:log-group:/aws/greengrass/*"


# AWS pages the IoT policies below follow (cited per rule in the docstrings):
MINIMAL_CORE_POLICY_URL = (
    "https://docs.aws.amazon.com/greengrass/v2/developerguide/device-auth.html"
    "#greengrass-core-minimal-iot-policy"
)
THING_POLICY_VARIABLES_URL = (
    "https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html"
)
THING_POLICY_EXAMPLES_URL = (
    "https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-examples.html"
)
FLEET_PROVISIONING_SETUP_URL = (
    "https://docs.aws.amazon.com/greengrass/v2/developerguide/fleet-provisioning-setup.html"
)
FLEET_PLUGIN_CONFIG_URL = (
    "https://docs.aws.amazon.com/greengrass/v2/developerguide/fleet-provisioning-configuration.html"
)
PRE_PROVISIONING_HOOK_URL = (
    "https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html"
)
# The thing name of the connection, resolved by AWS IoT for MQTT connections only.
THING_NAME = "${iot:Connection.Thing.ThingName}"


def core_device_policy(
    *,
    region: str,
    account: str,
    role_alias_arn: str,
    thing: str | None = None,
    prefix: str | None = None,
) -> Document:
    """The minimal AWS IoT policy of a Greengrass core device, for one thing or a name prefix.

    From "Minimal AWS IoT policy for AWS IoT Greengrass V2 core devices"
    (``MINIMAL_CORE_POLICY_URL``).

    ``thing`` gives a policy for exactly that thing, names written out (stricter than the
    page's ``<thing>*``: the nucleus connects as ``<thing>`` and ``<thing>#<n>`` (``MqttClient``
    in the nucleus source), and a bare ``*`` suffix would also match the topics and client ids
    of a thing whose name merely starts with this one's).

    ``prefix`` gives the one policy all fleet-provisioned devices share (their names all start
    with it). Shared does not mean interchangeable: every MQTT rule (connect, publish, receive,
    subscribe) names the connection's own thing through ``${iot:Connection.Thing.ThingName}``
    ("Thing policy variables", ``THING_POLICY_VARIABLES_URL``: it resolves to the thing the
    certificate is attached to, over MQTT only), and ``iot:Connect`` also requires
    ``iot:Connection.Thing.IsAttached`` (``THING_POLICY_EXAMPLES_URL``: the certificate is
    attached to that thing) and a thing name with the prefix. A fleet device can then neither
    take another fleet device's client id (knocking it offline) nor use its topics. Where AWS
    resolves no thing variable the prefix stays: the shadow HTTP actions on the thing ARN and
    the Greengrass data-plane actions (HTTPS, not MQTT; the minimal-policy page grants the
    latter on ``*``). With a non-exclusive certificate attachment (what a provisioning template
    makes) AWS resolves the variable only when the client id equals the thing name, so fleet
    devices connect only as ``<thing>``, never ``<thing>#<n>``; the nucleus opens those extra
    connections only past the per-connection subscription quota, which DDA's components stay
    far below.
    """
    if (thing is None) == (prefix is None):
        raise ValueError("give exactly one of thing and prefix")
    arn = f"arn:aws:iot:{region}:{account}"
    connect: Document = {"Sid": "Connect", "Effect": "Allow", "Action": "iot:Connect"}
    if thing is not None:
        connect["Resource"] = [f"{arn}:client/{thing}", f"{arn}:client/{thing}#*"]
        things = f"$aws/things/{thing}"
        thing_arn = f"{arn}:thing/{thing}"
    else:
        connect["Resource"] = f"{arn}:client/{THING_NAME}"
        connect["Condition"] = {
            "Bool": {"iot:Connection.Thing.IsAttached": "true"},
            "StringLike": {"iot:Connection.Thing.ThingName": f"{prefix}*"},
        }
        things = f"$aws/things/{THING_NAME}"
        thing_arn = f"{arn}:thing/{prefix}*"
    return {
        "Version": VERSION,
        "Statement": [
            connect,
            {
                # Telemetry (greengrass/health), deployment status (greengrassv2/health), IoT
                # jobs and the deployment shadow: the nucleus's own topics.
                "Sid": "NucleusTopics",
                "Effect": "Allow",
                "Action": ["iot:Publish", "iot:Receive"],
                "Resource": [
                    f"{arn}:topic/{things}/greengrass/health/json",
                    f"{arn}:topic/{things}/greengrassv2/health/json",
                    f"{arn}:topic/{things}/jobs/*",
                    f"{arn}:topic/{things}/shadow/*",
                ],
            },
            {
                "Sid": "NucleusSubscriptions",
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [
                    f"{arn}:topicfilter/{things}/jobs/*",
                    f"{arn}:topicfilter/{things}/shadow/*",
                ],
            },
            {
                "Sid": "OwnShadow",
                "Effect": "Allow",
                "Action": ["iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow"],
                "Resource": thing_arn,
            },
            {
                "Sid": "TokenExchange",
                "Effect": "Allow",
                "Action": "iot:AssumeRoleWithCertificate",
                "Resource": role_alias_arn,
            },
            {
                "Sid": "GreengrassDataPlane",
                "Effect": "Allow",
                "Action": GREENGRASS_DATA_PLANE_ACTIONS,
                "Resource": "*",
            },
        ],
    }


def claim_policy(
    *, region: str, account: str, templates: list[str], client_prefix: str
) -> Document:
    """A provisioning claim certificate's policy: the fleet provisioning MQTT API and nothing else.

    From "Set up AWS IoT fleet provisioning for Greengrass core devices"
    (``FLEET_PROVISIONING_SETUP_URL``, create a provisioning claim certificate): connect, then
    ``$aws/certificates/create/*`` (the plugin's default ``CreateKeysAndCertificate``),
    ``$aws/certificates/create-from-csr/*`` (its ``csrPath`` option) and ``RegisterThing`` on
    this stack's templates only.

    The claim key is shared by every device of the fleet, so it must not be able to take a core
    device's MQTT client id (AWS IoT disconnects the older of two connections with one client
    id): it may connect only as ``<client_prefix><anything>``, a name no thing of this stack can
    have (``dda_config`` refuses listed things and fleet prefixes that overlap it). The plugin
    connects with its ``deviceId`` parameter as client id (a random UUID when unset;
    ``FLEET_PLUGIN_CONFIG_URL``), which the rendered plugin config sets to
    ``<client_prefix><serial number>``.
    """
    arn = f"arn:aws:iot:{region}:{account}"
    topics = [
        "$aws/certificates/create/*",
        "$aws/certificates/create-from-csr/*",
        *(f"$aws/provisioning-templates/{name}/provision/*" for name in sorted(templates)),
    ]
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": f"{arn}:client/{client_prefix}*",
            },
            {
                "Effect": "Allow",
                "Action": ["iot:Publish", "iot:Receive"],
                "Resource": [f"{arn}:topic/{t}" for t in topics],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [f"{arn}:topicfilter/{t}" for t in topics],
            },
        ],
    }


def provisioning_trust_policy(*, region: str, account: str) -> Document:
    """AWS IoT may assume the provisioning role, for this account's and region's IoT only.

    The trust is the one in "Set up AWS IoT fleet provisioning for Greengrass core devices",
    with the ``aws:SourceAccount`` and ``aws:SourceArn`` conditions of "Cross-service confused
    deputy prevention" (AWS IoT developer guide), whose ``aws:SourceArn`` format for AWS IoT is
    ``arn:aws:iot:<region>:<account-id>:*``.
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "iot.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:iot:{region}:{account}:*"},
                },
            }
        ],
    }


def fleet_template(*, thing_name_prefix: str, thing_group: str, policy_name: str) -> Document:
    """A fleet provisioning template: thing ``<prefix><SerialNumber>`` in ``thing_group``.

    The resources are the three "Set up AWS IoT fleet provisioning" requires (thing,
    policy by name, certificate from ``AWS::IoT::Certificate::Id``). Unlike the page's sample,
    the device supplies only a serial number: the name prefix (which the shared IoT policy is
    scoped to) and the thing group (which decides the model it receives) are fixed here, so a
    claim certificate cannot pick another name pattern or platform.

    What the template cannot bound is *which* serial numbers register: any holder of the claim
    key may register any serial, an existing device's included (the template then attaches a
    new certificate to that thing). AWS's control for that is a pre-provisioning hook, a Lambda
    function IoT calls before each registration (``PRE_PROVISIONING_HOOK_URL``); the stack
    attaches one when ``fleetProvisioning.preProvisioningHookArn`` is given.
    """
    return {
        "Parameters": {
            "SerialNumber": {"Type": "String"},
            "AWS::IoT::Certificate::Id": {"Type": "String"},
        },
        "Resources": {
            "thing": {
                "Type": "AWS::IoT::Thing",
                "OverrideSettings": {
                    "AttributePayload": "REPLACE",
                    "ThingGroups": "REPLACE",
                    "ThingTypeName": "REPLACE",
                },
                "Properties": {
                    "ThingName": {"Fn::Join": ["", [thing_name_prefix, {"Ref": "SerialNumber"}]]},
                    "AttributePayload": {},
                    "ThingGroups": [thing_group],
                },
            },
            "certificate": {
                "Type": "AWS::IoT::Certificate",
                "Properties": {
                    "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
                    "Status": "Active",
                },
            },
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": policy_name}},
        },
    }
