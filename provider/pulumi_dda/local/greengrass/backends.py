"""``backends[account_id][region]``: all Greengrass v2 state of one endpoint, like moto's.

Backends are created on first use, so any account and region a request names just works;
``reset`` forgets them all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pulumi_dda.local.settings import EndpointSettings

from .exceptions import ValidationException
from .models import GreengrassV2Backend
from .nucleus import NucleusPool
from .peers import Peers
from .resources import COMPONENT_ARN


class _RegionBackends(dict[str, GreengrassV2Backend]):
    """``backends[account][region]``: regions of one account, created on first use."""

    def __init__(self, account_id: str, owner: GreengrassV2Backends) -> None:
        super().__init__()
        self.account_id = account_id
        self.owner = owner

    def __missing__(self, region: str) -> GreengrassV2Backend:
        with self.owner.lock:
            owner = self.owner
            backend = GreengrassV2Backend(
                self.account_id, region, owner.settings, owner.peers, owner.clock, owner.nuclei
            )
            return self.setdefault(region, backend)


class GreengrassV2Backends(dict[str, _RegionBackends]):
    """All Greengrass v2 state of one endpoint, keyed like moto: ``[account][region]``."""

    def __init__(
        self,
        peers: Peers,
        settings: EndpointSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.peers = peers
        self.settings = settings or EndpointSettings()
        self.clock = clock
        self.lock = threading.RLock()
        self.nuclei = NucleusPool(clock)

    def __missing__(self, account_id: str) -> _RegionBackends:
        with self.lock:
            return self.setdefault(account_id, _RegionBackends(account_id, self))

    def reset(self) -> None:
        """Forget every component and deployment (settings are kept); stop every nucleus."""
        with self.lock:
            self.clear()
        self.nuclei.stop_all()

    def close(self) -> None:
        """Stop every nucleus of a nucleus-backed device (the endpoint stops)."""
        self.nuclei.stop_all()

    def force_failed(self, arn: str, message: str, errors: dict[str, str] | None = None) -> None:
        """Find the version's backend from its ARN and force it into FAILED."""
        match = COMPONENT_ARN.match(arn)
        if match is None:
            raise ValidationException(f"Not a component version ARN: {arn}")
        self[match["account"]][match["region"]].force_failed(arn, message, errors)
