"""The policy documents a DDA core device lives by, as pure functions of names and ARNs.

Nothing here declares a resource: ``dda_stack`` and ``dda_devices`` turn these documents into
IAM and AWS IoT policies, and the tests evaluate the very same documents. Each function names
the AWS page its shape comes from; where this project is stricter than the page, the docstring
says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    local_server: list[S3Location],
    logs_arn: str | None,
) -> Document:
    """What a core device may do with its role-alias credentials, and nothing more.

    - S3: the nucleus's artifact downloader calls ``GetBucketLocation`` on the artifact's bucket
      before ``HeadObject``/``GetObject`` (it fails with "S3 GetBucketLocation returns 403
      Access Denied" otherwise; Greengrass troubleshooting guide), so each bucket a recipe
      points at needs ``s3:GetBucketLocation`` on the bucket and ``s3:GetObject`` on the
      objects. That is the model packages ``DdaModelComponent`` uploads
      (``<prefix>model_artifacts/``) and wherever the DDA LocalServer's artifacts live (every
      model recipe depends on it). No ``ListBucket``: a missing key is a 403, not a 404. The
      artifact bucket uses SSE-S3, so no ``kms:Decrypt``.
    - Logs: the four actions the LogManager component needs ("Log manager", Greengrass
      developer guide), only when LogManager is deployed (``logs_arn`` given), narrowed to the
      ``/aws/greengrass/*`` log groups of this account and region.
    """
    buckets = sorted({artifacts.bucket_arn, *(loc.bucket_arn for loc in local_server)})
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
    if local_server:
        statements.append(
            {
                "Sid": "ReadLocalServerArtifacts",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": sorted({loc.objects_arn for loc in local_server}),
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


def core_device_policy(
    *,
    region: str,
    account: str,
    role_alias_arn: str,
    thing: str | None = None,
    prefix: str | None = None,
) -> Document:
    """The minimal AWS IoT policy of a Greengrass core device, for one thing or a name prefix.

    From "Minimal AWS IoT policy for AWS IoT Greengrass V2 core devices". Thing policy variables
    (``iot:Connection.Thing.*``) are not supported for core devices, so the names are written
    out: ``thing`` gives a policy for exactly that thing (stricter than the page's
    ``<thing>*``: the nucleus connects as ``<thing>`` and ``<thing>#<n>`` (``MqttClient`` in the
    nucleus source), and a bare ``*`` suffix would also match the topics and client ids of a
    thing whose name merely starts with this one's). ``prefix`` gives the shared policy of
    fleet-provisioned devices, whose names all start with it (the page's own suggestion).
    """
    if (thing is None) == (prefix is None):
        raise ValueError("give exactly one of thing and prefix")
    arn = f"arn:aws:iot:{region}:{account}"
    if thing is not None:
        clients = [f"{arn}:client/{thing}", f"{arn}:client/{thing}#*"]
        things = f"$aws/things/{thing}"
        thing_arn = f"{arn}:thing/{thing}"
    else:
        clients = [f"{arn}:client/{prefix}*"]
        things = f"$aws/things/{prefix}*"
        thing_arn = f"{arn}:thing/{prefix}*"
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "Connect", "Effect": "Allow", "Action": "iot:Connect", "Resource": clients},
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


def claim_policy(*, region: str, account: str, templates: list[str]) -> Document:
    """A provisioning claim certificate's policy: the fleet provisioning MQTT API and nothing else.

    From "Set up AWS IoT fleet provisioning for Greengrass core devices" (create a provisioning
    claim certificate): connect, then ``$aws/certificates/create/*`` (the plugin's default
    ``CreateKeysAndCertificate``), ``$aws/certificates/create-from-csr/*`` (its ``csrPath``
    option) and ``RegisterThing`` on this stack's templates only. The plugin's client id is a
    random UUID unless configured, hence any client id in this account and region.
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
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{arn}:client/*"},
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
