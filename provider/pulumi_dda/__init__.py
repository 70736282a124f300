"""pulumi-dda: DDA model components for AWS IoT Greengrass v2 as infrastructure as code.

The three DDA phases are pure functions (:mod:`.manifest`, :mod:`.package`, :mod:`.recipe`),
the AWS side is in :mod:`.artifacts` and :mod:`.greengrass` (errors translated once, in
:mod:`.aws`), and the Pulumi resources' lifecycles orchestrate them (:mod:`.model_component`,
:mod:`.deployment`), served to programs in every language by the provider plugin
(:mod:`.plugin`); :mod:`.resources` are the Python classes, generated from :mod:`.properties`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .build import BuildRequest, BuiltComponent, build_all
from .errors import ArchiveError, AwsError, ConflictError, DdaError, InputError, NotFoundError
from .manifest import DdaManifest
from .package import ArchiveLimits, Package

if TYPE_CHECKING:
    from .deployment_inputs import ConfigurationUpdate, DeploymentComponent
    from .model_component import DdaModelComponentProvider
    from .resources import (
        DdaModelComponent,
        DdaModelComponentArgs,
        GreengrassDeployment,
        GreengrassDeploymentArgs,
    )

# The Pulumi resources import the Pulumi SDK (gRPC, protobuf); the CLI and the phases do not
# need it, so those names load on first use.
_LAZY = {
    "ConfigurationUpdate": "deployment_inputs",
    "DeploymentComponent": "deployment_inputs",
    "GreengrassDeployment": "resources",
    "GreengrassDeploymentArgs": "resources",
    "DdaModelComponent": "resources",
    "DdaModelComponentArgs": "resources",
    "DdaModelComponentProvider": "model_component",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ArchiveError",
    "ArchiveLimits",
    "AwsError",
    "BuildRequest",
    "BuiltComponent",
    "ConfigurationUpdate",
    "ConflictError",
    "DdaError",
    "DdaManifest",
    "DdaModelComponent",
    "DdaModelComponentArgs",
    "DdaModelComponentProvider",
    "DeploymentComponent",
    "GreengrassDeployment",
    "GreengrassDeploymentArgs",
    "InputError",
    "NotFoundError",
    "Package",
    "build_all",
]
