"""pulumi-dda: DDA model components for AWS IoT Greengrass v2 as infrastructure as code.

The three DDA phases are pure functions (:mod:`.manifest`, :mod:`.package`, :mod:`.recipe`),
the AWS side is in :mod:`.artifacts` and :mod:`.greengrass` (errors translated once, in
:mod:`.aws`), and the Pulumi resources orchestrate them (:mod:`.model_component`,
:mod:`.deployment`).
"""

from .build import BuildRequest, BuiltComponent, build_all
from .deployment import ConfigurationUpdate, DeploymentComponent, GreengrassDeployment
from .errors import ArchiveError, AwsError, ConflictError, DdaError, InputError, NotFoundError
from .manifest import DdaManifest
from .model_component import DdaModelComponent, DdaModelComponentProvider
from .package import ArchiveLimits, Package

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
    "DdaModelComponentProvider",
    "DeploymentComponent",
    "GreengrassDeployment",
    "InputError",
    "NotFoundError",
    "Package",
    "build_all",
]
