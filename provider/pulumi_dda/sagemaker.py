"""Model archives named the way ML teams name them: SageMaker training jobs, Neo compilation
jobs and Model Registry packages, as ``sagemaker://`` URIs in the same inputs as ``s3://`` ones.

The forms (parsed by :func:`parse_name`, resolved by :func:`resolve_name`)::

    sagemaker://training-job/<name>
        DescribeTrainingJob: ModelArtifacts.S3ModelArtifacts
    sagemaker://compilation-job/<name>
        DescribeCompilationJob: ModelArtifacts.S3ModelArtifacts; OutputConfig.TargetDevice or
        TargetPlatform must be the declared target's
    sagemaker://model-package/<group>/<version>
        DescribeModelPackage: the ModelDataUrl of its one container
    sagemaker://model-package/<group>:latest-approved
        ListModelPackages (Approved, newest first), then as above
    sagemaker://model-package/<model package ARN>, .../<group ARN>:latest-approved
        the same in another account

Each may end in ``?versionId=<id>``, which pins the S3 object version of what the name resolves
to, exactly like an ``s3://`` source (not with ``:latest-approved``, which names no one object).
Names without an ARN are looked up in the stack's account and region (with ``role_arn``: the
assumed role's). The statuses come from the botocore model (``botocore/data/sagemaker/
2017-07-24/service-2.json``): a training job must be ``Completed`` (``TrainingJobStatus``:
InProgress, Completed, Failed, Stopping, Stopped, Deleting), a compilation job ``COMPLETED``
(``CompilationJobStatus``: INPROGRESS, COMPLETED, FAILED, STARTING, STOPPING, STOPPED), a model
package ``Approved`` (``ModelApprovalStatus``: Approved, Rejected, PendingManualApproval) and
``Completed`` (``ModelPackageStatus``). Anything else is refused in one line naming the status
(and the job's ``FailureReason``). A compilation job must have compiled for the declared
target: its ``OutputConfig`` (``TargetDevice``, or ``TargetPlatform`` ``Os``/``Arch``/
``Accelerator``) is checked with :func:`.recipe.neo_mismatch`, the same rule as a compiled
model's ``compiled.meta``.

What a name resolves to is a :class:`Resolution`: the S3 location and the pinned name (a
model package by the ARN of its version, so ``:latest-approved`` becomes the version it found;
a job by its name, which is immutable), which :mod:`.sources` records in the
source's identity, so state pins it like ``?versionId=`` and a new approval is a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from . import arn as arns
from .aws import AwsClients, aws_errors
from .errors import InputError
from .recipe import neo_mismatch

SCHEME = "sagemaker://"
TRAINING_JOB = "training-job"
COMPILATION_JOB = "compilation-job"
MODEL_PACKAGE = "model-package"
KINDS = (TRAINING_JOB, COMPILATION_JOB, MODEL_PACKAGE)
LATEST_APPROVED = ":latest-approved"
_ENTITY = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
"""``EntityName`` of the botocore model: job and model package group names."""
_NAME = re.compile(f"^{_ENTITY}$")
_VERSIONED = re.compile(f"^(?P<group>{_ENTITY})/(?P<version>[1-9][0-9]{{0,8}})$")
_ARN = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:[0-9]{12}:"
    rf"(?P<type>model-package|model-package-group)/(?P<rest>{_ENTITY}(/[1-9][0-9]{{0,8}})?)$"
)
FORMS = (
    "sagemaker://training-job/<name>, sagemaker://compilation-job/<name>, "
    "sagemaker://model-package/<group>/<version> or <group>:latest-approved (or an ARN)"
)


def is_sagemaker(uri: str) -> bool:
    return uri.startswith(SCHEME)


@dataclass(frozen=True)
class SageMakerName:
    """A parsed ``sagemaker://`` source: ``kind``, ``name`` (a job name, ``<group>/<version>``,
    ``<group>`` with ``latest``, or an ARN) and the pinned object version, if any."""

    kind: str
    name: str
    latest: bool = False
    version_id: str | None = None

    @property
    def pinned_name(self) -> str:
        """``<kind>/<name>`` without the object version: what the preview and state show."""
        return f"{self.kind}/{self.name}" + (LATEST_APPROVED if self.latest else "")

    def describe(self) -> str:
        """``model package defects/3``: for a preview line."""
        return f"{self.kind.replace('-', ' ')} {self.name}" + (
            LATEST_APPROVED if self.latest else ""
        )


def parse_name(uri: str) -> SageMakerName:
    """A ``sagemaker://`` URI → :class:`SageMakerName`, or one line saying which forms exist."""
    location, question_mark, query = uri.partition("?")
    kind, _, name = location.removeprefix(SCHEME).partition("/")
    version_id = None
    if question_mark:
        pairs = [part.partition("=") for part in query.split("&")]
        if [unquote(n) for n, _, _ in pairs] != ["versionId"] or not pairs[0][2]:
            raise InputError(f"{uri!r}: the only query a sagemaker:// source accepts is "
                             f"?versionId=<id>, got {query!r}")  # fmt: skip
        version_id = unquote(pairs[0][2])
    latest = name.endswith(LATEST_APPROVED)
    name = name.removesuffix(LATEST_APPROVED)
    if kind in (TRAINING_JOB, COMPILATION_JOB) and _NAME.match(name) and not latest:
        return SageMakerName(kind, name, version_id=version_id)
    if kind == MODEL_PACKAGE:
        arn = _ARN.match(name)
        group_form = _NAME.match(name) or (arn and arn["type"] == "model-package-group")
        version_form = _VERSIONED.match(name) or (
            arn and arn["type"] == "model-package" and "/" in arn["rest"]
        )
        if latest and version_id:
            raise InputError(
                f"{uri!r}: :latest-approved names no one object, so it takes no ?versionId=; "
                "name the package version (<group>/<version>)"
            )
        if (latest and group_form) or (not latest and version_form):
            return SageMakerName(kind, name, latest, version_id)
    raise InputError(f"{uri!r} is not a SageMaker name: the forms are {FORMS}")


@dataclass(frozen=True)
class Resolution:
    """What a SageMaker name named when it was looked up: ``pinned`` (``model-package/
    defects/3`` for ``defects:latest-approved``), its ``status`` and the ``s3://`` ``location``
    of the archive."""

    pinned: str
    status: str
    location: str

    def shown(self) -> str:
        return f"{shown_name(self.pinned)} ({self.status})"


def shown_name(pinned: str) -> str:
    """``model-package/arn:…:model-package/defects/3`` → ``model package defects/3``."""
    kind, _, name = pinned.partition("/")
    return f"{kind.replace('-', ' ')} {name.rpartition(':model-package/')[2] or name}"


def resolve_name(
    uri: str, clients: AwsClients, target: str | None = None, pinned: str | None = None
) -> Resolution:
    """Look the name up and check it can be shipped; ``target``: the compilation target a
    compiled model is declared for (a compilation job must match it). ``pinned``: resolve this
    already pinned name instead (a ``:latest-approved`` a check resolved before)."""
    name = parse_name(uri)
    if pinned is not None:
        name = parse_name(f"{SCHEME}{pinned}")
    sm = clients.sagemaker
    if name.kind == TRAINING_JOB:
        with aws_errors(f"looking up training job {name.name}"):
            job = sm.describe_training_job(TrainingJobName=name.name)
        status = str(job.get("TrainingJobStatus"))
        _refuse_unless(uri, "training job", name.name, status, "Completed", job)
        location = _location(uri, (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts"))
        return Resolution(name.pinned_name, status, location)
    if name.kind == COMPILATION_JOB:
        with aws_errors(f"looking up compilation job {name.name}"):
            job = sm.describe_compilation_job(CompilationJobName=name.name)
        status = str(job.get("CompilationJobStatus"))
        _refuse_unless(uri, "compilation job", name.name, status, "COMPLETED", job)
        if target is not None:
            _check_target(uri, name.name, target, job.get("OutputConfig") or {})
        location = _location(uri, (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts"))
        return Resolution(name.pinned_name, status, location)
    arn_or_name = name.name
    if name.latest:
        arn_or_name = _latest_approved(uri, sm, name.name)
    elif not arn_or_name.startswith("arn:"):
        group, _, version = arn_or_name.partition("/")
        arn_or_name = (
            f"arn:{arns.partition(clients.region)}:sagemaker:{clients.region}:{clients.account_id}:"
            f"model-package/{group}/{version}"
        )
    with aws_errors(f"looking up model package {arn_or_name}"):
        package = sm.describe_model_package(ModelPackageName=arn_or_name)
    return _package_resolution(uri, name, package)


def _refuse_unless(
    uri: str, what: str, name: str, status: str, wanted: str, described: dict[str, Any]
) -> None:
    if status == wanted:
        return
    reason = str(described.get("FailureReason") or "")
    raise InputError(
        f"{uri}: {what} {name} is {status}" + (f" ({reason})" if reason else "")
        + f", not {wanted}: only a {wanted} job's model can be shipped"
    )  # fmt: skip


def _location(uri: str, value: object) -> str:
    if not isinstance(value, str) or not value.startswith("s3://"):
        raise InputError(f"{uri}: names no s3:// model archive (got {value!r})")
    return value


def _check_target(uri: str, name: str, target: str, output: dict[str, Any]) -> None:
    """``OutputConfig``'s device or platform against the target's Neo devices and platform."""
    requirements: dict[str, Any] = {}
    if output.get("TargetDevice"):
        requirements["TargetDevice"] = output["TargetDevice"]
    elif isinstance(output.get("TargetPlatform"), dict):
        requirements["TargetPlatform"] = output["TargetPlatform"]
    mismatch = neo_mismatch(target, requirements)
    if mismatch is not None:
        raise InputError(
            f"{uri}: compilation job {name} compiled for {mismatch}, which is not target "
            f"{target}: name the job compiled for {target}"
        )


def _latest_approved(uri: str, sm: Any, group: str) -> str:
    with aws_errors(f"listing the approved model packages of {group}"):
        listed = sm.list_model_packages(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )
    found = listed.get("ModelPackageSummaryList") or []
    if not found:
        raise InputError(f"{uri}: model package group {group} has no Approved model package")
    return str(found[0]["ModelPackageArn"])


def _package_resolution(uri: str, name: SageMakerName, package: dict[str, Any]) -> Resolution:
    arn = str(package.get("ModelPackageArn") or name.name)
    approval = str(package.get("ModelApprovalStatus") or "PendingManualApproval")
    status = str(package.get("ModelPackageStatus") or "")
    shown = f"model package {arn.split(':model-package/', 1)[-1]}"
    if approval != "Approved":
        raise InputError(
            f"{uri}: {shown} is {approval}, not Approved: approve it in the Model Registry "
            "(or name an approved version)"
        )
    if status and status != "Completed":
        raise InputError(f"{uri}: {shown} is {status}, not Completed")
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or []
    urls = [c.get("ModelDataUrl") for c in containers if c.get("ModelDataUrl")]
    if len(urls) != 1:
        raise InputError(
            f"{uri}: {shown} has {len(urls)} containers with a ModelDataUrl; exactly one "
            "(the model archive) is needed"
        )
    # By ARN: the exact version, in whichever account the name was looked up (a promotion to a
    # stack in another account still names it; the group's resource policy must share it).
    return Resolution(f"{MODEL_PACKAGE}/{arn}", approval, _location(uri, urls[0]))
