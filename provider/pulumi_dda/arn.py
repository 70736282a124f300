"""ARNs, built and read in one place.

An ARN is ``arn:<partition>:<service>:<region>:<account>:<resource>``. The partition follows
the region (``aws``, ``aws-cn`` for ``cn-*``, ``aws-us-gov`` for ``us-gov-*``; AWS's "Amazon
Resource Names" reference), so nothing here assumes ``arn:aws``. Greengrass names a component
``…:components:<name>`` and a version ``…:components:<name>:versions:<version>``; IoT names
``…:thing/<name>`` and ``…:thinggroup/<name>``; IAM ``arn:<partition>:iam::<account>:role/<path
and name>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>\d{12}|):(?P<resource>.+)$"
)
_ROLE = re.compile(r"^role/[\w+=,.@/-]{1,512}$")
_IOT_TARGET = re.compile(r"^(?P<kind>thing|thinggroup)/(?P<name>[a-zA-Z0-9:_-]{1,128})$")


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: object) -> Arn | None:
        """The ARN ``text`` names, or ``None`` when it is not one."""
        found = _ARN.match(text) if isinstance(text, str) else None
        return cls(**found.groupdict()) if found else None

    def __str__(self) -> str:
        return ":".join(
            ("arn", self.partition, self.service, self.region, self.account, self.resource)
        )


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def component(region: str, account: str, name: str) -> str:
    return str(Arn(partition(region), "greengrass", region, account, f"components:{name}"))


def component_version(region: str, account: str, name: str, version: str) -> str:
    return version_of(component(region, account, name), version)


def version_of(component_arn: str, version: str) -> str:
    return f"{component_arn}:versions:{version}"


def component_of(version_arn: str) -> str:
    """The component ARN of a component version ARN."""
    return version_arn.rpartition(":versions:")[0]


def name_and_version(version_arn: str) -> tuple[str, str]:
    head, _, version = version_arn.rpartition(":versions:")
    return head.rpartition(":components:")[2], version


def is_role(text: object) -> bool:
    """An IAM role ARN (any partition)."""
    found = Arn.parse(text)
    return bool(found and found.service == "iam" and _ROLE.match(found.resource))


@dataclass(frozen=True)
class IotTarget:
    """What a deployment targets: an IoT thing or thing group."""

    arn: Arn
    kind: str
    name: str

    @property
    def region(self) -> str:
        return self.arn.region


def iot_target(text: object) -> IotTarget | None:
    found = Arn.parse(text)
    if not found or found.service != "iot" or not found.region or not found.account:
        return None
    target = _IOT_TARGET.match(found.resource)
    return IotTarget(found, target["kind"], target["name"]) if target else None
