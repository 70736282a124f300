"""The local Greengrass v2 service, laid out like a moto service.

``models`` holds state and behaviour, ``responses`` the HTTP side, ``exceptions`` one
class per AWS error code, ``shapes`` the botocore model as the request/response contract,
``recipes`` and ``peers`` what the service does with recipes, S3 artifacts and IoT targets.
"""

from .backends import GreengrassV2Backends
from .models import GreengrassV2Backend
from .responses import GreengrassV2Responses, IncomingRequest, Reply, is_greengrass_v2

__all__ = [
    "GreengrassV2Backend",
    "GreengrassV2Backends",
    "GreengrassV2Responses",
    "IncomingRequest",
    "Reply",
    "is_greengrass_v2",
]
