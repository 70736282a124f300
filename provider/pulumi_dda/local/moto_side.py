"""What this endpoint needs to know about the requests it hands to moto.

Four things: which account a request belongs to (moto's own rules, so that S3 served by
moto and Greengrass served here agree), which operation it calls (for the request log and
fault injection), what an injected error looks like in that service's protocol, and the
bytes of one range of a stored S3 object.
Everything that touches moto internals is here, so a moto upgrade has one place to break.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from .greengrass.exceptions import error_for_code, render_error
from .greengrass.responses import Reply

DEFAULT_ACCOUNT_ID = "123456789012"

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

#: HTTP statuses AWS uses for common error codes of moto-served services.
_DEFAULT_STATUS = {
    "SlowDown": 503,
    "ServiceUnavailable": 503,
    "RequestLimitExceeded": 503,
    "InternalError": 500,
    "InternalFailure": 500,
    "InternalServerError": 500,
    "InternalServerException": 500,
    "AccessDenied": 403,
    "AccessDeniedException": 403,
    "NoSuchKey": 404,
    "NoSuchBucket": 404,
    "ResourceNotFoundException": 404,
}
_RETRY_AFTER_CODES = {"SlowDown", "ThrottlingException", "Throttling", "ServiceUnavailable"}


@dataclass(frozen=True)
class Caller:
    """Who sent a request and where to: the account, the region and the signing service."""

    account_id: str
    region: str
    signing_service: str | None


def identify_caller(
    environ: dict[str, Any], query: dict[str, list[str]], default_region: str
) -> Caller:
    """Account as moto decides it; region and service from the SigV4 credential scope."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = _SCOPE.search(auth)
    region, service = (scope.group(2), scope.group(3)) if scope else (None, None)
    if scope is None and "X-Amz-Credential" in query:  # presigned URL
        parts = query["X-Amz-Credential"][0].split("/")
        if len(parts) == 5:
            region, service = parts[2], parts[3]
    return Caller(_account_id(environ, auth, query), region or default_region, service)


def _account_id(environ: dict[str, Any], auth: str, query: dict[str, list[str]]) -> str:
    """moto's ``BaseResponse.get_current_account``, step by step.

    Environment MOTO_ACCOUNT_ID, then the ``x-moto-account-id`` header, then the access
    key: keys that moto's STS AssumeRole or IAM CreateAccessKey issued belong to their
    account; any other key (e.g. dummy test credentials) is the default account.
    """
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    from moto.core.responses import BaseResponse
    from moto.iam.models import get_account_id_from

    match = BaseResponse.access_key_regex.search(auth) if auth else None
    fallback = query.get("AWSAccessKeyId", ["AKIAEXAMPLE"])[0]
    access_key = match.group(1) if match else fallback
    return str(get_account_id_from(access_key))


def operation_name(
    service: str | None, environ: dict[str, Any], body: bytes, query: dict[str, list[str]]
) -> str | None:
    """The API operation of a moto-bound request, from the botocore model via moto's router."""
    model = _model_name(service, environ)
    if model is not None:
        name = _routed_name(model, environ, body)
        if name:
            return name
    action = query.get("Action") or _form(environ, body).get("Action")
    if action:
        return action[0]
    target = environ.get("HTTP_X_AMZ_TARGET")
    return str(target).rsplit(".", 1)[-1] if target else None


def _model_name(service: str | None, environ: dict[str, Any]) -> str | None:
    if service == "s3" and str(environ.get("PATH_INFO", "")).startswith("/v20180820/"):
        return "s3control"
    return service


def _routed_name(model: str, environ: dict[str, Any], body: bytes) -> str | None:
    from moto.core.request import Request
    from moto.core.routing import get_service_router

    copied = dict(environ)
    copied["wsgi.input"] = io.BytesIO(body)
    try:
        operation, _ = get_service_router(model).match(Request(copied))
    except Exception:  # unknown service, unknown route: fall back to cheaper clues
        return None
    return str(operation.name)


def _form(environ: dict[str, Any], body: bytes) -> dict[str, list[str]]:
    if str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded"):
        return parse_qs(body.decode("utf-8", "replace"))
    return {}


@functools.cache
def _protocol(service: str) -> str:
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service)
    except Exception:  # a signing name that is no botocore service name
        return "json"
    return str(model.metadata.get("protocol", "json"))


def render_fault(
    service: str, code: str, message: str, status: int | None, request_id: str
) -> Reply:
    """An injected error in the wire format of ``service``, so its SDK parses the code."""
    if service == "greengrassv2":
        return Reply(*render_error(error_for_code(code, message, status)))
    status = status or _DEFAULT_STATUS.get(code, 400)
    headers: list[tuple[str, str]] = []
    if code in _RETRY_AFTER_CODES:
        headers.append(("Retry-After", "1"))
    protocol = _protocol(_model_name(service, {}) or service)
    text, msg, rid = escape(code), escape(message), escape(request_id)
    if protocol == "rest-xml":
        body = (
            f"<Error><Code>{text}</Code><Message>{msg}</Message>"
            f"<RequestId>{rid}</RequestId></Error>"
        )
        return Reply(status, [("Content-Type", "application/xml"), *headers], body.encode())
    if protocol in ("query", "ec2"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{text}</Code>"
            f"<Message>{msg}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
        )
        return Reply(status, [("Content-Type", "text/xml"), *headers], body.encode())
    json_body = json.dumps({"__type": code, "message": message}).encode()
    headers += [("Content-Type", "application/json"), ("X-Amzn-ErrorType", code)]
    return Reply(status, headers, json_body)


def object_range(
    caller: Caller, path: str, version_id: str | None, etag: str, start: int, length: int
) -> bytes | None:
    """``length`` bytes from ``start`` of the object at path-style ``/bucket/key``, read from
    moto's store without the rest; ``None`` unless that object is there with ``etag``."""
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    bucket, _, key = path.lstrip("/").partition("/")
    try:
        backend = s3_backends[caller.account_id][get_partition(caller.region)]
        stored = backend.get_object(bucket, key, version_id=version_id)
    except Exception:  # no such bucket, or not path-style: moto answers the request itself
        return None
    if stored is None or stored.etag != etag:
        return None
    with stored.lock:
        stored._value_buffer.seek(start)
        data = stored._value_buffer.read(length)
    return bytes(data) if len(data) == length else None


SAGEMAKER_JOB_STATUSES = {
    "training-job": frozenset(
        {"InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting"}
    ),
    "compilation-job": frozenset(
        {"INPROGRESS", "COMPLETED", "FAILED", "STARTING", "STOPPING", "STOPPED"}
    ),
}
"""The ``TrainingJobStatus`` and ``CompilationJobStatus`` enums of the botocore model
(``botocore/data/sagemaker/2017-07-24/service-2.json``)."""


def set_sagemaker_job_status(
    account_id: str, region: str, kind: str, name: str, status: str, failure_reason: str = ""
) -> None:
    """Put a SageMaker training or compilation job into ``status``, which moto lacks: moto
    creates every job ``Completed``/``COMPLETED`` and no API moves it (real jobs run first,
    and may fail). ``failure_reason`` becomes the job's ``FailureReason`` (a member of both
    ``DescribeTrainingJobResponse`` and ``DescribeCompilationJobResponse``)."""
    from moto.sagemaker.models import sagemaker_backends

    if status not in SAGEMAKER_JOB_STATUSES.get(kind, frozenset()):
        allowed = sorted(SAGEMAKER_JOB_STATUSES.get(kind, SAGEMAKER_JOB_STATUSES))
        raise ValueError(f"{kind} status {status!r} is not one of {', '.join(allowed)}")
    backend = sagemaker_backends[account_id][region]
    if kind == "training-job":
        job: Any = backend.training_jobs[name]
        job.training_job_status = status
        job.secondary_status = status
    else:
        job = backend.compilation_jobs[name]
        job.compilation_job_status = status
    job.failure_reason = failure_reason


def reset_moto() -> None:
    """Clear every moto backend (moto's state is global to the process)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
