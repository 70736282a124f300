"""What Greengrass v2 reads from other AWS services: S3 artifacts and IoT deployment targets.

The real service reads artifacts from S3 with the caller's permissions and deploys to IoT
things and thing groups. Here those services are moto's, in the same process, so the
backend asks moto's in-memory backends directly instead of making HTTP calls to itself.
The models see only the :class:`Peers` protocol, which keeps them free of moto.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Protocol
from urllib.parse import unquote


class Peers(Protocol):
    """Read access to the resources of other services that Greengrass depends on."""

    def read_artifact(self, account_id: str, region: str, uri: str) -> bytes | None:
        """The bytes of an S3 artifact the caller can read in ``region``, else None."""

    def artifact_exists(self, account_id: str, region: str, uri: str) -> bool:
        """Whether the artifact is still readable, without reading it."""

    def target_exists(self, account_id: str, region: str, target_arn: str) -> bool:
        """Whether an IoT thing or thing group with this ARN exists."""

    def group_members(self, account_id: str, region: str, group_arn: str) -> set[str]:
        """The names of the things directly in a thing group (empty if it does not exist)."""

    def ensure_thing(self, account_id: str, region: str, thing_name: str) -> str:
        """The ARN of the IoT thing ``thing_name``, created if missing (a provisioned core)."""

    def join_group(self, account_id: str, region: str, thing_name: str, group_name: str) -> bool:
        """Add a thing to a thing group; False if the group does not exist (yet)."""


def split_s3_uri(uri: str) -> tuple[str, str] | None:
    """``s3://bucket/key`` -> (bucket, key); keys in recipes may be percent-encoded."""
    if not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        return None
    return bucket, unquote(key)


def artifact_digest(data: bytes) -> str:
    """What the service stores as ``Digest``: padded standard base64 of the SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


class MotoPeers:
    """:class:`Peers` backed by moto's S3 and IoT backends in this process.

    Stricter than AWS where the rule is unconfirmed: the bucket must belong to the
    caller's own account (a bucket policy granting another account is not modelled),
    and it must be in the caller's region (documented: no cross-region artifacts).
    """

    def _object(self, account_id: str, region: str, uri: str) -> Any:
        from moto.s3.models import FakeKey, s3_backends

        parts = split_s3_uri(uri)
        if parts is None:
            return None
        bucket_name, key = parts
        backend = s3_backends[account_id]["aws"]
        bucket = backend.buckets.get(bucket_name)
        if bucket is None or bucket.region_name != region:
            return None
        obj = bucket.keys.get(key)
        # In a versioned bucket a deleted key's latest version is a delete marker.
        return obj if isinstance(obj, FakeKey) else None

    def read_artifact(self, account_id: str, region: str, uri: str) -> bytes | None:
        obj = self._object(account_id, region, uri)
        if obj is None:
            return None
        return bytes(obj.value)

    def artifact_exists(self, account_id: str, region: str, uri: str) -> bool:
        return self._object(account_id, region, uri) is not None

    def target_exists(self, account_id: str, region: str, target_arn: str) -> bool:
        from moto.iot.models import iot_backends

        backend = iot_backends[account_id][region]
        return target_arn in backend.things or target_arn in backend.thing_groups

    def group_members(self, account_id: str, region: str, group_arn: str) -> set[str]:
        from moto.iot.models import iot_backends

        group = iot_backends[account_id][region].thing_groups.get(group_arn)
        return {thing.thing_name for thing in group.things.values()} if group else set()

    def ensure_thing(self, account_id: str, region: str, thing_name: str) -> str:
        from moto.iot.models import iot_backends

        backend = iot_backends[account_id][region]
        for arn, thing in backend.things.items():
            if thing.thing_name == thing_name:
                return str(arn)
        return str(backend.create_thing(thing_name, "", None).arn)

    def join_group(self, account_id: str, region: str, thing_name: str, group_name: str) -> bool:
        from moto.iot.models import iot_backends

        backend = iot_backends[account_id][region]
        group = next(
            (g for g in backend.thing_groups.values() if g.thing_group_name == group_name), None
        )
        if group is None:
            return False
        thing_arn = self.ensure_thing(account_id, region, thing_name)
        group.things[thing_arn] = backend.things[thing_arn]
        return True
