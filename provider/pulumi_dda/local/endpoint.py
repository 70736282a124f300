"""``LocalEndpoint``: the local AWS endpoint running in a background thread of this process.

A threaded werkzeug server (the one ``moto_server`` uses, with moto's request handler so
S3 metadata headers keep their spelling) serving :class:`~.server.LocalAWSApp`. Tests use
it as a context manager; the control methods act on the app directly, no HTTP involved.

The endpoint has no authentication at all, its admin API included, so it binds a loopback
address only, unless ``allow_remote`` (``pulumi-dda local --allow-remote``) says otherwise;
then it warns, on stderr, what anyone who reaches the port can do (:func:`check_bind`, the
one place that decides, for the CLI and the Python API alike).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from . import settings as endpoint_settings
from .control import Fault, RequestRecord
from .server import LocalAWSApp

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


EXPOSED = (
    "anyone who can reach it can reset all its state, inject faults and read the request log "
    "(the admin API under /_dda_local/) and use its S3, Greengrass, IoT, IAM and STS with any "
    "credentials: there is no authentication"
)


class RemoteBindError(ValueError):
    """A non-loopback address to bind, without ``allow_remote``."""


def is_loopback(host: str) -> bool:
    """Every address ``host`` names is a loopback address (``127.0.0.0/8``, ``::1``)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = {str(info[4][0]) for info in socket.getaddrinfo(host, None)} if host else set()
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def check_bind(host: str, allow_remote: bool) -> str:
    """'' for a loopback ``host``; else the warning to show if ``allow_remote``, else
    :class:`RemoteBindError`."""
    if is_loopback(host):
        return ""
    if not allow_remote:
        raise RemoteBindError(
            f"host {host!r} is not a loopback address, and on it {EXPOSED}; bind 127.0.0.1, "
            "or pass --allow-remote (LocalEndpoint(allow_remote=True)) to listen there anyway"
        )
    return f"listening on {host!r}, not a loopback address: {EXPOSED}"


def _request_handler(quiet: bool) -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class Handler(MotoRequestHandler):
        """moto's handler, without one access-log line per request unless asked."""

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            if not quiet:
                super().log_request(*args, **kwargs)

    return Handler


class LocalEndpoint:
    """Greengrass v2 (ours) and every other AWS service (moto's) on one local port.

    moto's state is global to the process: two endpoints in one process share S3, IoT and
    the rest, but each has its own Greengrass v2 state, faults and request log. ``settings``
    are keyword arguments named as the fields of ``EndpointSettings`` (``state_delay=0.05``);
    they are the values :meth:`reset` returns to. ``core_devices`` (``add_core_device``'s
    keyword arguments, one mapping each) are simulated devices that :meth:`reset` adds again.
    A host that is not a loopback address raises
    :class:`RemoteBindError` unless ``allow_remote``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        *,
        quiet: bool = True,
        allow_remote: bool = False,
        core_devices: Sequence[Mapping[str, Any]] = (),
        **settings: Any,
    ) -> None:
        self.warning = check_bind(host, allow_remote)
        self.host = host
        self.region = region
        initial = endpoint_settings.EndpointSettings()
        endpoint_settings.apply(initial, settings)
        self.app = LocalAWSApp(region, initial, core_devices=core_devices)
        self._requested_port = port
        self._quiet = quiet
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the endpoint is not running; call start() first")
        return int(self._server.port)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> LocalEndpoint:
        """Bind (port 0 picks a free one) and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        if self.warning:
            print(f"pulumi-dda local: warning: {self.warning}", file=sys.stderr, flush=True)
        # Bind here: werkzeug reports a busy port with sys.exit(1), no use to a library.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self._requested_port))
            listener.listen(128)
            self._server = make_server(
                self.host,
                self._requested_port,
                self.app,
                threaded=True,
                request_handler=_request_handler(self._quiet),
                fd=listener.fileno(),  # werkzeug duplicates it
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="pulumi-dda-local", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release the port and stop every nucleus it started. Safe to call
        twice."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self.app.close()

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def client(self, service_name: str, **kwargs: Any) -> Any:
        """A boto3 client pointed here, with dummy credentials unless given."""
        import boto3

        options: dict[str, Any] = {"region_name": self.region, **DUMMY_CREDENTIALS, **kwargs}
        return boto3.client(service_name, endpoint_url=self.url, **options)  # type: ignore[call-overload]

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
        ``delay`` seconds; an empty ``error`` only delays them)."""
        self.app.inject_fault(
            operation, error, count, message=message, status=status, service=service, delay=delay
        )

    def faults(self) -> list[Fault]:
        return self.app.faults()

    def clear_faults(self) -> None:
        self.app.clear_faults()

    def force_failed(self, arn: str, message: str, errors: dict[str, str] | None = None) -> None:
        self.app.force_failed(arn, message, errors)

    def set_sagemaker_job_status(
        self, kind: str, name: str, status: str, failure_reason: str = ""
    ) -> None:
        """Put a SageMaker training or compilation job into ``status`` (see ``LocalAWSApp``)."""
        self.app.set_sagemaker_job_status(kind, name, status, failure_reason)

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change the named settings (fields of ``EndpointSettings``); return all of them."""
        return self.app.configure(**changes)

    def add_core_device(self, thing_name: str, **spec: Any) -> dict[str, Any]:
        """Add a simulated core device or change its behaviour (see ``LocalAWSApp``)."""
        return self.app.add_core_device(thing_name, **spec)

    def core_devices(self) -> list[Any]:
        return self.app.core_devices()

    def set_state_delay(self, seconds: float) -> None:
        self.app.set_state_delay(seconds)

    def request_log(self) -> list[RequestRecord]:
        return self.app.request_log()

    def clear_request_log(self) -> None:
        self.app.clear_request_log()

    def reset(self) -> None:
        self.app.reset()
