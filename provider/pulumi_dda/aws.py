"""AWS sessions and clients, and the one place where botocore errors become pulumi-dda errors.

Clients are built on demand from an :class:`AwsSettings` value (plain strings, safe to keep in
Pulumi state: no credentials). Retries use botocore's ``standard`` mode with 10 attempts, which
backs off on throttling and 5xx answers; nothing here re-implements it. ``AWS_ENDPOINT_URL`` and
the rest of the standard environment are honoured by botocore itself.

boto3 and botocore are imported when a client is first made, not with this module: the
``pulumi-dda build`` CLI, which calls no AWS API for local sources, starts without them
(they take most of a second to import).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, cast

from .errors import AwsError, ConflictError, NotFoundError

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from mypy_boto3_greengrassv2 import GreengrassV2Client
    from mypy_boto3_iot import IoTClient
    from mypy_boto3_s3 import S3Client


@cache
def retry_config() -> Config:
    """botocore's ``standard`` retries with 10 attempts (imports botocore on first use)."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 10})


NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "404"})


@dataclass(frozen=True)
class AwsSettings:
    """Where and as whom to call AWS. Empty strings mean "the standard AWS environment"."""

    region: str = ""
    profile: str = ""
    role_arn: str = ""
    session_name: str = "pulumi-dda"


@cache
def _data_loader() -> Any:
    """botocore's loader of service models, shared by every session of the process: a new
    session parses the S3 model's JSON again (about 0.1 s a client against 0.02 s with the
    shared loader), and sessions are made per settings (region, role) and per CLI run."""
    from botocore.loaders import create_loader

    return create_loader(os.environ.get("AWS_DATA_PATH"))


def _session(**options: Any) -> boto3.Session:
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _data_loader())
    return boto3.Session(botocore_session=core, **options)


def session_for(settings: AwsSettings) -> boto3.Session:
    """A boto3 session for ``settings``; with ``role_arn`` the session uses assumed credentials."""
    base = _session(profile_name=settings.profile or None, region_name=settings.region or None)
    if not settings.role_arn:
        return base
    sts = base.client("sts", config=retry_config())
    with aws_errors(f"assuming role {settings.role_arn}"):
        creds = sts.assume_role(
            RoleArn=settings.role_arn, RoleSessionName=settings.session_name[:64]
        )["Credentials"]
    return _session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=base.region_name,
    )


@dataclass
class AwsClients:
    """Lazily created clients of one session (made one at a time: a boto3 session is not
    thread-safe). Never stored on a pickled object."""

    settings: AwsSettings = field(default_factory=AwsSettings)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @cached_property
    def session(self) -> boto3.Session:
        return session_for(self.settings)

    def _client(self, service: str) -> Any:
        with self._lock:
            return self.session.client(service, config=retry_config())  # type: ignore[call-overload]

    @cached_property
    def s3(self) -> S3Client:
        return cast("S3Client", self._client("s3"))

    @cached_property
    def greengrass(self) -> GreengrassV2Client:
        return cast("GreengrassV2Client", self._client("greengrassv2"))

    @cached_property
    def iot(self) -> IoTClient:
        return cast("IoTClient", self._client("iot"))

    @cached_property
    def sagemaker(self) -> Any:
        """SageMaker (``sagemaker://`` sources). ``Any``: the project installs no SageMaker
        type stubs."""
        return self._client("sagemaker")

    @cached_property
    def account_id(self) -> str:
        with aws_errors("looking up the AWS account (sts:GetCallerIdentity)"):
            return str(self._client("sts").get_caller_identity()["Account"])

    @property
    def region(self) -> str:
        region = self.session.region_name
        if not region:
            raise AwsError(
                "no AWS region configured: set the stack config aws:region, the resource's "
                "region input, or AWS_DEFAULT_REGION"
            )
        return region


class ClientCache:
    """Clients shared by the calls of one provider (a plugin process) with the same settings.

    Without ``role_arn`` the session name is not used, so it does not count (and botocore
    refreshes credentials from the standard chain itself); with ``role_arn`` the assumed
    credentials (an hour by default) are used for at most :data:`ASSUMED_REUSE_SECONDS`, then
    the role is assumed again."""

    ASSUMED_REUSE_SECONDS = 15 * 60

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[AwsSettings, tuple[float, AwsClients]] = {}

    def get(self, settings: AwsSettings) -> AwsClients:
        key = settings if settings.role_arn else replace(settings, session_name="")
        now = time.monotonic()
        with self._lock:
            found = self._made.get(key)
            if found and (not key.role_arn or now - found[0] < self.ASSUMED_REUSE_SECONDS):
                return found[1]
            clients = AwsClients(settings)
            self._made[key] = (now, clients)
            return clients


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    error: dict[str, Any] = dict(exc.response.get("Error", {}))
    return str(error.get("Message") or error.get("Code") or exc)


def _translated(action: str, exc: ClientError) -> AwsError:
    code = error_code(exc)
    text = f"{action}: {code}: {_message(exc)}"
    if code in NOT_FOUND_CODES:
        return NotFoundError(text, code)
    if code == "ConflictException":
        return ConflictError(text, code)
    return AwsError(text, code)


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Turn botocore errors raised inside the block into :class:`AwsError` naming ``action``."""
    try:
        yield
    except Exception as exc:
        if "botocore" not in sys.modules:  # no client was ever made: not an AWS error
            raise
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, ClientError):
            raise _translated(action, exc) from exc
        if not isinstance(exc, BotoCoreError | Boto3Error):
            raise
        # Managed transfers raise S3UploadFailedError while handling the ClientError.
        if isinstance(exc.__context__, ClientError):
            raise _translated(action, exc.__context__) from exc
        raise AwsError(f"{action}: {exc}") from exc
