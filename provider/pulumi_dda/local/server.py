"""One WSGI application on one port: Greengrass v2 is served here, everything else by moto.

Dispatch is by path: ``/greengrass/v2/...`` and ``/tags/<greengrass v2 ARN>`` go to the
local Greengrass v2 service, ``/_dda_local/...`` to the admin API, and every other request
(S3, STS, IAM, IoT, ...) to moto's server application (``DomainDispatcherApplication``),
which routes by the SigV4 signing name just like ``moto_server`` does. Path dispatch comes
first because moto would send Greengrass v2 requests, signed as ``greengrass`` too, to
its Greengrass v1 backend.

Every AWS request is fully buffered, both ways, so its size can be logged and the log
entry written before the first byte of the reply leaves. Replies leave at the pace of the
``connection_bandwidth`` setting (bytes per second per connection; 0, the default, for no cap).
A ranged S3 ``GetObject`` is answered from the requested bytes alone: moto checks the request
as a ``HeadObject`` (existence, version, ``If-Match``) and the range is read from its store,
where moto itself would copy the whole object for every range.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from werkzeug.http import HTTP_STATUS_CODES

from . import moto_side
from . import settings as endpoint_settings
from .control import BandwidthCap, Fault, FaultInjector, RequestLog, RequestRecord
from .greengrass import (
    GreengrassV2Backends,
    GreengrassV2Responses,
    IncomingRequest,
    Reply,
    is_greengrass_v2,
)
from .greengrass.peers import MotoPeers, Peers

ADMIN_PREFIX = "/_dda_local/"
GREENGRASS_SERVICE = "greengrassv2"
SERVICES = (GREENGRASS_SERVICE, "s3", "iot", "iam", "sts", "sagemaker")
"""The signing names of the services this endpoint serves (fault injection names them)."""
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/\d+")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _raw_path(environ: dict[str, Any]) -> str:
    """The path as sent, percent-encoding intact (werkzeug's dev server keeps it)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0]
    from urllib.parse import quote

    return quote(str(environ.get("PATH_INFO", "")))


def _read_body(environ: dict[str, Any], cap: BandwidthCap) -> bytes:
    """Read the whole request body (at most ``cap``'s rate) and put a fresh stream back for
    whoever comes next."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = cap.read(stream, int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)


def _moto_app() -> WSGIApp:
    """moto's server application, remembering which backend serves each host name: moto lists
    its package directory and tries every backend's URL pattern on every request (a third of
    the endpoint's CPU time for a ``HeadObject``). The answer for a host never changes."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    class Dispatcher(DomainDispatcherApplication):
        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self._backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backends:
                self._backends[host] = super().get_backend_for_host(host)
            return self._backends[host]

    return Dispatcher()


class LocalAWSApp:
    """The endpoint's WSGI application and the in-process control surface of tests."""

    def __init__(
        self,
        default_region: str = "us-east-1",
        settings: endpoint_settings.EndpointSettings | None = None,
        peers: Peers | None = None,
        core_devices: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        from .admin import AdminAPI

        self.default_region = default_region
        self.settings = settings or endpoint_settings.EndpointSettings()
        self._initial_settings = replace(self.settings)
        self.greengrass = GreengrassV2Backends(peers or MotoPeers(), self.settings)
        self.responses = GreengrassV2Responses(self.greengrass)
        self.fault_injector = FaultInjector()
        self.log = RequestLog()
        self.bandwidth = BandwidthCap(lambda: self.settings.connection_bandwidth)
        self.moto: WSGIApp = _moto_app()
        self.admin = AdminAPI(self)
        self._initial_devices = [dict(spec) for spec in core_devices]
        for spec in self._initial_devices:
            self.add_core_device(**spec)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        admin = str(environ.get("PATH_INFO", "")).startswith(ADMIN_PREFIX)
        reply = self.admin.handle(environ) if admin else self._serve(environ)
        headers = list(reply.headers)
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers.append(("Content-Length", str(len(reply.body))))
        start_response(f"{reply.status} {HTTP_STATUS_CODES.get(reply.status, '')}", headers)
        return [reply.body] if admin else self.bandwidth.pace(reply.body)

    def _serve(self, environ: dict[str, Any]) -> Reply:
        body = _read_body(environ, self.bandwidth)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        raw_path = _raw_path(environ)
        query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        caller = moto_side.identify_caller(environ, query, self.default_region)
        ours = is_greengrass_v2(raw_path)
        if ours:
            service = GREENGRASS_SERVICE
            operation = self.responses.operation_for(method, raw_path)
        else:
            service = caller.signing_service or "unknown"
            operation = moto_side.operation_name(caller.signing_service, environ, body, query)
        request_id = str(uuid.uuid4())
        fault = self.fault_injector.take(service, operation)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and not fault.error:
            fault = None  # latency only
        if fault is not None:
            message = fault.message or f"Injected {fault.error} for {operation}"
            reply = moto_side.render_fault(service, fault.error, message, fault.status, request_id)
        elif ours:
            headers = {
                k[5:].replace("_", "-").lower(): str(v)
                for k, v in environ.items()
                if k.startswith("HTTP_")
            }
            incoming = IncomingRequest(
                method, raw_path, query, headers, body, caller.account_id, caller.region
            )
            reply = self.responses.dispatch(incoming)
        elif operation == "GetObject" and environ.get("HTTP_RANGE"):
            reply = self._ranged_get(environ, caller) or self._call_moto(environ)
        else:
            reply = self._call_moto(environ)
        if ours or fault is not None:
            reply.headers.append(("x-amzn-RequestId", request_id))
        self.log.append(
            RequestRecord(
                service=service,
                operation=operation or f"{method} {raw_path}",
                method=method,
                path=raw_path,
                status=reply.status,
                bytes_in=len(body),
                bytes_out=len(reply.body),
                account_id=caller.account_id,
                region=caller.region,
                time=time.time(),
                injected_fault=fault is not None,
            )
        )
        return reply

    def _call_moto(self, environ: dict[str, Any]) -> Reply:
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self.moto(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status = int(str(captured["status"]).split(" ", 1)[0])
        return Reply(status, list(captured["headers"]), b"".join(chunks))

    def _ranged_get(self, environ: dict[str, Any], caller: moto_side.Caller) -> Reply | None:
        """moto's answer to the same request as a HeadObject, with the range's bytes."""
        head = self._call_moto({**environ, "REQUEST_METHOD": "HEAD", "wsgi.input": io.BytesIO()})
        headers = {name.lower(): value for name, value in head.headers}
        match = _CONTENT_RANGE.fullmatch(headers.get("content-range", ""))
        if head.status != 206 or match is None:
            return None
        start, end = int(match[1]), int(match[2])
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        data = moto_side.object_range(
            caller,
            str(environ.get("PATH_INFO", "")),
            query.get("versionId", [None])[0],
            headers.get("etag", ""),
            start,
            end - start + 1,
        )
        return None if data is None else Reply(206, head.headers, data)

    def inject_fault(
        self,
        operation: str,
        error: str,
        count: int = 1,
        *,
        message: str | None = None,
        status: int | None = None,
        service: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``count`` calls of ``operation`` fail with error code ``error`` (after
        ``delay`` seconds; an empty ``error`` only delays them). ``service`` is the signing
        name of one this endpoint serves: a fault that could never match is refused."""
        if service is not None and service not in SERVICES:
            raise ValueError(f"service {service!r} is not one of {', '.join(SERVICES)}")
        self.fault_injector.add(Fault(operation, error, count, message, status, service, delay))

    def faults(self) -> list[Fault]:
        return self.fault_injector.pending()

    def clear_faults(self) -> None:
        self.fault_injector.clear()

    def force_failed(self, arn: str, message: str, errors: dict[str, str] | None = None) -> None:
        """Put a component version into FAILED with ``message`` (and ``status.errors``)."""
        self.greengrass.force_failed(arn, message, errors)

    def set_sagemaker_job_status(
        self,
        kind: str,
        name: str,
        status: str,
        failure_reason: str = "",
        account_id: str | None = None,
        region: str | None = None,
    ) -> None:
        """Put a SageMaker ``training-job`` or ``compilation-job`` into ``status`` (moto
        creates them finished; see :func:`.moto_side.set_sagemaker_job_status`)."""
        moto_side.set_sagemaker_job_status(
            account_id or moto_side.DEFAULT_ACCOUNT_ID,
            region or self.default_region,
            kind,
            name,
            status,
            failure_reason,
        )

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change the given settings (names and types as in ``EndpointSettings``; ``None``
        leaves one alone); return all of them."""
        endpoint_settings.apply(self.settings, changes)
        return endpoint_settings.as_dict(self.settings)

    def add_core_device(self, thing_name: str, **spec: Any) -> dict[str, Any]:
        """Add a simulated core device, or change the behaviour of one (``devices.Behaviour``:
        ``outcome``, ``delay``, ``fail_on``, ``online``, ``reconnect_after``, ...;
        ``thing_groups`` it joins ``join_after`` seconds from now). ``account_id`` and
        ``region`` default to moto's default account and this endpoint's region."""
        account = str(spec.pop("account_id", None) or moto_side.DEFAULT_ACCOUNT_ID)
        region = str(spec.pop("region", None) or self.default_region)
        backend = self.greengrass[account][region]
        return backend.register_core_device({"thing_name": thing_name, **spec})

    def core_devices(self, account_id: str | None = None, region: str | None = None) -> list[Any]:
        """The simulated devices of an account and region: behaviour, installed, executions."""
        account = account_id or moto_side.DEFAULT_ACCOUNT_ID
        return self.greengrass[account][region or self.default_region].core_devices()

    def set_state_delay(self, seconds: float) -> None:
        self.configure(state_delay=seconds)

    def request_log(self) -> list[RequestRecord]:
        return self.log.records()

    def clear_request_log(self) -> None:
        self.log.clear()

    def close(self) -> None:
        """Stop what runs beside the server: the nucleus of every nucleus-backed device."""
        self.greengrass.close()

    def reset(self) -> None:
        """Back to a fresh endpoint: no AWS state (moto's included), faults, log or changes."""
        self.greengrass.reset()
        moto_side.reset_moto()
        self.fault_injector.clear()
        self.log.clear()
        endpoint_settings.restore(self.settings, self._initial_settings)
        for spec in self._initial_devices:
            self.add_core_device(**spec)
