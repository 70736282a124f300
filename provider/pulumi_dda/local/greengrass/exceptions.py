"""Greengrass v2 errors: one class per AWS error code, each carrying its HTTP status.

The real service speaks REST-JSON, so an error is a JSON body with at least ``message``,
the code in the ``X-Amzn-ErrorType`` header, and (for throttling and server faults) a
``Retry-After`` header. botocore's error parser reads exactly these, which is why every
error goes through :func:`render_error` and nowhere else.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

JsonDict = dict[str, Any]


class GreengrassV2Error(Exception):
    """Base of every error the local Greengrass v2 service returns to a client."""

    code: ClassVar[str] = "InternalServerException"
    status: ClassVar[int] = 500

    def __init__(self, message: str, **members: Any) -> None:
        super().__init__(message)
        self.message = message
        self.members: JsonDict = {k: v for k, v in members.items() if v is not None}
        self.headers: dict[str, str] = {}
        # Per instance so that fault injection can send any code with any status.
        self.error_code: str = self.code
        self.http_status: int = self.status

    def body(self) -> JsonDict:
        """The modelled error members, as the real service sends them."""
        return {"message": self.message, **self.members}


class ValidationException(GreengrassV2Error):
    """The request breaks a modelled constraint or a documented service rule."""

    code = "ValidationException"
    status = 400

    def __init__(
        self,
        message: str,
        reason: str = "FIELD_VALIDATION_FAILED",
        fields: list[JsonDict] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, fields=fields)


class AccessDeniedException(GreengrassV2Error):
    """Also what the real service answers for a recipe it cannot parse."""

    code = "AccessDeniedException"
    status = 403


class ResourceNotFoundException(GreengrassV2Error):
    """The ARN or id names nothing in this account and region."""

    code = "ResourceNotFoundException"
    status = 404

    def __init__(self, message: str, resource_id: str, resource_type: str) -> None:
        super().__init__(message, resourceId=resource_id, resourceType=resource_type)


class ConflictException(GreengrassV2Error):
    """The resource exists already, or its state forbids the operation."""

    code = "ConflictException"
    status = 409

    def __init__(self, message: str, resource_id: str, resource_type: str) -> None:
        super().__init__(message, resourceId=resource_id, resourceType=resource_type)


class ServiceQuotaExceededException(GreengrassV2Error):
    """A service quota was hit; carries the quota and service codes."""

    code = "ServiceQuotaExceededException"
    status = 402

    def __init__(
        self, message: str, quota_code: str = "L-0", service_code: str = "greengrass"
    ) -> None:
        super().__init__(message, quotaCode=quota_code, serviceCode=service_code)


class RequestAlreadyInProgressException(GreengrassV2Error):
    """A request with the same client token is still being processed."""

    code = "RequestAlreadyInProgressException"
    status = 400


class _RetryableError(GreengrassV2Error):
    """An error the client should retry; ``Retry-After`` tells it when."""

    def __init__(self, message: str, retry_after_seconds: int = 1, **members: Any) -> None:
        super().__init__(message, **members)
        self.headers["Retry-After"] = str(retry_after_seconds)


class ThrottlingException(_RetryableError):
    """Request rate quota exceeded."""

    code = "ThrottlingException"
    status = 429


class InternalServerException(_RetryableError):
    """The service failed; the request may succeed when retried."""

    code = "InternalServerException"
    status = 500


class UnknownOperationException(GreengrassV2Error):
    """A Greengrass v2 path this endpoint does not serve (real service: unknown route)."""

    code = "UnknownOperationException"
    status = 404


ERROR_CLASSES: dict[str, type[GreengrassV2Error]] = {
    cls.code: cls
    for cls in (
        ValidationException,
        AccessDeniedException,
        ResourceNotFoundException,
        ConflictException,
        ServiceQuotaExceededException,
        RequestAlreadyInProgressException,
        ThrottlingException,
        InternalServerException,
        UnknownOperationException,
    )
}


def error_for_code(code: str, message: str, status: int | None = None) -> GreengrassV2Error:
    """Build the error a fault injection asks for, with the members its shape requires.

    A code the model does not define is sent as it is, with ``status`` (default 400).
    """
    cls = ERROR_CLASSES.get(code)
    err: GreengrassV2Error
    if cls is ResourceNotFoundException or cls is ConflictException:
        err = cls(message, "injected", "injected")
    elif cls is ValidationException:
        err = ValidationException(message, reason="OTHER")
    elif cls is None:
        err = GreengrassV2Error(message)
        err.error_code, err.http_status = code, 400
    else:
        err = cls(message)
    if status is not None:
        err.http_status = status
    return err


def render_error(err: GreengrassV2Error) -> tuple[int, list[tuple[str, str]], bytes]:
    """The one place an error becomes HTTP: status, headers and JSON body."""
    headers = [
        ("Content-Type", "application/json"),
        ("X-Amzn-ErrorType", err.error_code),
        *err.headers.items(),
    ]
    return err.http_status, headers, json.dumps(err.body()).encode()
