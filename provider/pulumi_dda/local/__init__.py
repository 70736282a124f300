"""A local AWS endpoint: Greengrass v2 served by this package, everything else by moto.

Design
------
Nothing public emulates Greengrass v2 (moto has only v1, under the same ``greengrass``
signing name), yet every test of this project talks to Greengrass v2, S3, IoT, IAM and
STS. So one WSGI application on one port (:mod:`.server`) dispatches by path:

* ``/greengrass/v2/...`` and ``/tags/<Greengrass v2 ARN>`` -> ours (:mod:`.greengrass`,
  laid out like a moto service: ``models`` state and behaviour without HTTP, ``responses``
  HTTP and routing, ``exceptions`` one class per AWS error code rendered by one handler);
* ``/_dda_local/...`` -> the admin API (:mod:`.admin`, faults, settings, request log);
* everything else -> moto's server application (``DomainDispatcherApplication``) in the
  same process, which picks the moto backend from the SigV4 signing name.

What is moto's: S3, IoT, IAM, STS and all other services, and the account of a request
(moto's rule, reused in :mod:`.moto_side`: ``MOTO_ACCOUNT_ID``, the ``x-moto-account-id``
header, else the access key, where keys issued by moto's STS AssumeRole or IAM
CreateAccessKey belong to their account and any other key to 123456789012). The region
is the SigV4 credential scope's. Greengrass state is ``backends[account][region]`` like
moto's; artifacts are read from moto's S3 backend and deployment targets from moto's IoT
backend directly, in process.

What is ours, following the botocore ``greengrassv2`` model (requests validated against
it: required members, types, lengths, ranges, patterns, enums; responses serialised
through it, so botocore parses them unchanged) and the documented service behaviour:
recipe JSON or YAML; an unparsable recipe -> AccessDeniedException "not authorized to
perform: null"; ConflictException with the real text for an existing name+version;
artifacts must exist in S3 in the caller's region, and the service computes each
``Digest`` (SHA-256, padded base64); GetComponent returns the recipe as the service
rewrote it (defaults filled in, ``Uri``, keys reordered; ``recipes.stored_recipe``), not
the bytes sent; states REQUESTED -> INITIATED -> DEPLOYABLE after
``state_delay`` each, FAILED if an artifact vanished before processing completed;
``clientToken`` idempotency; one deployment per target, a new one supersedes the previous
(``isLatestForTarget`` false, status INACTIVE); CancelDeployment; DeleteDeployment of
anything but an ACTIVE deployment; simulated core devices acting on deployments, with the
data-plane views (``greengrass.fleet``, ``greengrass.devices``), and devices of kind
``nucleus`` whose deployments the real Greengrass nucleus installs (``greengrass.nucleus``);
``nextToken`` paging (default 50) on every list operation.
A deleted name+version can be created again (the evidence is in ``models._refuse_existing``; setting
``allow_recreate_deleted_versions`` False refuses it with ConflictException). Tags: at most
50 per resource (TagResource counts those already there), keys 1-128 characters, values
0-256, ``aws:`` reserved (``greengrass.tags``; the botocore model would allow 200).

Stricter than AWS, where no source settled the rule (each is marked "unconfirmed" where it
is enforced):

* component names must match ``^[a-zA-Z0-9-_.]+$`` and versions be semantic versions;
  recipes over 16,000 bytes are refused (the Greengrass Development Kit's limits);
* ``RecipeFormatVersion`` must be ``2020-01-25``; ``lambdaFunction`` sources are refused;
* artifact buckets must belong to the caller's account (no cross-account bucket policies);
* CreateDeployment requires the target thing or thing group to exist in moto's IoT
  (setting ``check_deployment_targets``), in the caller's account and region, and every
  private component version in it to exist (ResourceNotFoundException) and be DEPLOYABLE
  (ValidationException); ``aws.greengrass.*`` components are not checked;
* CancelDeployment of a deployment that is not ACTIVE is a ConflictException;
* a superseded deployment's status becomes INACTIVE (unconfirmed); list orders are
  unconfirmed (ListComponentVersions: semantic version, newest first; ListDeployments:
  newest first; ListComponents: by name); the component-name ARN cannot be tagged, only
  version ARNs and deployment ARNs (per the API reference's examples).

The state machine is computed lazily: the artifact re-check happens on the first read
after ``2 * state_delay``, not at that exact moment.
"""

from .cli import READY_PREFIX, cli_main
from .client import AdminClient, AdminError
from .control import Fault, RequestRecord
from .endpoint import LocalEndpoint, RemoteBindError
from .server import ADMIN_PREFIX, LocalAWSApp

__all__ = [
    "ADMIN_PREFIX",
    "READY_PREFIX",
    "AdminClient",
    "AdminError",
    "Fault",
    "LocalAWSApp",
    "LocalEndpoint",
    "RemoteBindError",
    "RequestRecord",
    "cli_main",
]
