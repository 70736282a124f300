"""``GreengrassDeployment``: the Greengrass v2 deployment of a thing or thing group.

pulumi-aws has no Greengrass v2 resources, and aws-native's deployment replaces the deployment
on every change and loses component configuration on read. Greengrass keeps one deployment per
target: each ``CreateDeployment`` for a target is a new *revision* that supersedes the previous
one (no longer ``isLatestForTarget``). So this resource is "the deployment of a target": its id
is the target ARN, stable across revisions; ``deployment_id`` is the current revision. Use one
resource per target (two would supersede each other). It deploys in the target's region.

**Whose deployment a target runs.** Every revision this project creates carries its owner, the
tag ``pulumi-dda:owner`` = ``<project>/<stack>/<resource name>`` (as component versions do). A
revision replaces the target's whole component set, so superseding someone else's deployment
uninstalls their components from every device of the group. Hence:

- **check** looks up the target (a thing or thing group that does not exist fails, naming
  ``target_arn``) and its current (latest) deployment. If that belongs to another owner, or
  carries no owner tag (made by hand or another tool), check fails with one line naming it
  (id, name, owner or "not made by pulumi-dda") — unless ``take_over=True``: check then fills
  in ``takes_over`` (``takes over deployment <id> "<name>" of <owner>``), which the preview
  shows and which makes the next revision (a create, or an update of an existing resource).
- **The stack that lost its target** (its revision superseded by another owner's) is told, not
  silently re-deployed: its preview (check) fails with ``deployment <id> for <target> was
  superseded by deployment <id> of <owner>: take it back with take_over=True or remove this
  resource``; its refresh (read) keeps the resource in state, refreshes its status and logs that
  same line (a failing read would also block ``up --refresh`` and ``destroy --refresh`` after
  the program says ``take_over=True``). Removing the resource then deletes only its own,
  superseded revision record: the other owner's deployment stays.
- A revision superseded by the *same* owner's revision of the same components (the revert of
  a failed rollout, or a create that crashed after deploying them) is followed by read: it
  takes that revision's ids. Superseded by the same owner with other components, or by a
  deployment that is gone again, it is dropped by read, and the next ``up`` deploys a fresh
  revision.
- create and update look again just before ``CreateDeployment`` (another stack may have
  deployed since check) and refuse the same way without ``take_over``.

``take_over`` is a permission, not a property of the deployment: changing only it changes
nothing (diff ignores it). Leave it set only while the take-over is meant: two stacks that both
say ``take_over=True`` supersede each other on every ``up``.

The hooks:

- **check** validates the inputs (naming the wrong one; unknown preview values pass and skip
  the lookups), then looks up the target and its current deployment (above).
- **diff** (against old outputs, which hold the inputs): ``target_arn``, ``region`` and
  ``role_arn`` replace, new deployment first; any other change is an in-place update, and so is
  a non-empty ``takes_over``.
- **create**: ``CreateDeployment`` with the tags plus ``pulumi-dda:owner``; botocore fills in
  ``clientToken``, so its retries (throttling, 5xx) are idempotent.
- **update** only re-tags the current revision when only ``tags`` changed; otherwise it creates
  the next revision for the target and lets the service supersede the old one (no cancel).
- **read** drops the resource from state (empty id) when its revision was deleted or cancelled
  outside the stack, or superseded by its own owner or by a deployment since removed, so the
  next ``up`` deploys a fresh revision; superseded by another owner, see above; otherwise it
  refreshes ``deployment_status`` and takes the service's tags as the ``tags`` input (drift).
- **delete** cancels the current revision if it is still the target's latest, then deletes its
  record; already gone is fine. Older, superseded revisions stay as deployment history.

What delete does to devices: cancelling stops the rollout to devices that have not received the
revision yet; deleting removes the deployment record. Devices that already applied it keep
running its components (Greengrass removes nothing on cancel or delete). To remove components
from devices, first deploy a revision without them: the service removes from the target's
devices what its new revision no longer lists.

The provider class is pickled by reference and holds only the plain strings of the stack config;
AWS clients are built inside each hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pulumi.runtime.rpc import UNKNOWN

from . import arn as arns
from . import greengrass
from ._host import (
    AwsResourceProvider,
    hook,
    is_known,
    is_unknown,
    progress,
)
from ._types import JSONDict
from .aws import AwsClients, aws_errors
from .deployment_inputs import CHECKS
from .errors import DdaError, InputError, NotFoundError
from .greengrass import KEEP_TAG, find_deployment, user_tags
from .ownership import OWNER_TAG, tag_value
from .properties import DEPLOYMENT
from .rollout import RolloutPolicy, Stage, Tally, observe, parse_stages, population, wait

if TYPE_CHECKING:
    from mypy_boto3_greengrassv2 import GreengrassV2Client

REPLACING_INPUTS = DEPLOYMENT.changing("replace")
REVISION_INPUTS = DEPLOYMENT.changing("new_version")
INPUT_KEYS = (*DEPLOYMENT.input_names(), "owner")
NOT_COMPARED = ("owner", *DEPLOYMENT.changing("none"))
"""Inputs a diff ignores: ``take_over`` is a permission, not a property of the deployment."""
OUTPUT_KEYS = ("deployment_id", "arn", "iot_job_id", "iot_job_arn", "deployment_status")
UNTOUCHED = "later stages untouched"
CHECK_FILLED = ("takes_over",)
"""``takes_over``: filled in by check, ``takes over deployment <id> ... of <owner>`` when the
next revision will supersede another owner's deployment (``take_over=True``), else empty."""
OWN_HISTORY_LOOKS = 20
"""How many older revisions of a target check reads to name this resource's superseded one."""
DEFAULTS: JSONDict = DEPLOYMENT.defaults()


class GreengrassDeploymentProvider(AwsResourceProvider):
    """The dynamic provider behind :class:`GreengrassDeployment`. Never rename or move it."""

    STATE_ONLY = ("owner", "last_good")
    """Kept in state as ``__owner``: no preview shows it (see ``_host.hook``)."""

    def _clients(self, props: JSONDict) -> AwsClients:
        target = arns.iot_target(props.get("target_arn"))
        return self.clients(props, target.region if target else "")

    @hook
    def check(self, olds: JSONDict, news: JSONDict) -> CheckResult:
        inputs = dict(news)
        for key, default in DEFAULTS.items():
            if inputs.get(key) is None:
                inputs[key] = default
        failures = []
        for key, validate in CHECKS.items():
            if is_unknown(inputs.get(key)):
                continue
            try:
                validate(inputs.get(key))
            except InputError as exc:
                failures.append(CheckFailure(key, str(exc)))
        target = arns.iot_target(inputs.get("target_arn"))
        region = inputs["region"]
        if target and region and not is_unknown(region) and region != target.region:
            failures.append(
                CheckFailure("region", f"region {region} is not target_arn's {target.region}")
            )
        inputs["takes_over"] = ""
        if failures:
            return CheckResult(inputs, failures)
        if not all(is_known(inputs.get(k)) for k in (*REPLACING_INPUTS, "take_over", "owner")):
            # A preview with a target another resource computes: looked up at up.
            inputs["takes_over"] = UNKNOWN
            return CheckResult(inputs, [])
        try:
            inputs["takes_over"] = self._check_target(olds, inputs)
            self._check_stages(inputs)
        except InputError as exc:
            return CheckResult(inputs, [CheckFailure(exc.field or "target_arn", str(exc))])
        except DdaError as exc:
            return CheckResult(inputs, [CheckFailure("target_arn", str(exc))])
        for line in preview_lines(olds, inputs):
            progress(line, keep=True)
        return CheckResult(inputs, [])

    def _check_stages(self, inputs: JSONDict) -> None:
        """Each stage's target exists, runs no other owner's deployment (unless ``take_over``)
        and, for a subdeployment, is a child group of ``target_arn``; raises naming ``stages``."""
        clients = self._clients(inputs)
        main = arns.iot_target(inputs["target_arn"])
        assert main is not None, "checked before"
        for i, stage in enumerate(parse_stages(inputs.get("stages"), inputs["target_arn"])):
            where = f"stages[{i}].target_arn"
            try:
                _check_target_exists(clients, stage.target_arn)
            except InputError as exc:
                raise InputError(f"{where}: {exc}", field="stages") from None
            current = current_deployment(clients.greengrass, stage.target_arn)
            if current and not current.owned_by(str(inputs["owner"])) and not inputs["take_over"]:
                raise InputError(f"{where}: {_refusal(stage.target_arn, current)}", field="stages")
            if stage.subdeployment:
                target = arns.iot_target(stage.target_arn)
                assert target is not None, "parse_stages checked it"
                with aws_errors(f"looking up the IoT thing group {target.name}"):
                    found = clients.iot.describe_thing_group(thingGroupName=target.name)
                parent = (found.get("thingGroupMetadata") or {}).get("parentGroupName")
                if parent != main.name:
                    raise InputError(
                        f"{where}: a subdeployment's thing group must be a child of "
                        f"{main.name}, but {target.name}'s parent is {parent or 'none'}",
                        field="stages",
                    )

    def _check_target(self, olds: JSONDict, inputs: JSONDict) -> str:
        """The target exists and whose deployment it runs (see the module docstring): returns
        ``takes_over``; raises naming the input."""
        clients = self._clients(inputs)
        target = str(inputs["target_arn"])
        _check_target_exists(clients, target)
        gg = clients.greengrass
        current = current_deployment(gg, target)
        owner = str(inputs["owner"])
        if current is None or current.owned_by(owner):
            return ""
        if inputs.get("take_over"):
            return f"takes over {current.label}"
        if olds and olds.get("target_arn") == target:
            mine = _own_latest(gg, target, owner)
            raise InputError(_superseded(mine, target, current), field="target_arn")
        raise InputError(_refusal(target, current), field="target_arn")

    @hook
    def diff(self, _id: str, olds: JSONDict, news: JSONDict) -> DiffResult:
        changed = [k for k in INPUT_KEYS if k not in NOT_COMPARED and olds.get(k) != news.get(k)]
        if _takes_over(news):
            changed.append("takes_over")
        return DiffResult(
            changes=bool(changed),
            replaces=[k for k in REPLACING_INPUTS if k in changed],
            delete_before_replace=False,
        )

    @hook
    def create(self, props: JSONDict) -> CreateResult:
        gg = self._clients(props).greengrass
        target = str(props["target_arn"])
        _guard(gg, props)
        inputs = {k: props.get(k) for k in INPUT_KEYS}
        outs = {**inputs, "revision_count": 1, "takes_over": ""}
        outs.update(self._roll_out({}, props))
        return CreateResult(target, outs)

    def _roll_out(self, olds: JSONDict, props: JSONDict) -> JSONDict:
        """A new revision through every stage, then to the target, each judged by its rollout
        policy (see :mod:`.rollout`): the outputs it adds, or an error naming what happened."""
        clients = self._clients(props)
        main = str(props["target_arn"])
        stages = parse_stages(props.get("stages"), main)
        before = {k: olds.get(k) for k in REVISION_INPUTS} if olds else {}
        done: dict[str, str] = {}
        for number, stage in enumerate(stages, 1):
            label = f"stage {number}/{len(stages) + 1} ({_name(stage.target_arn)})"
            if stage.subdeployment and not olds:
                progress(
                    f"{label}: skipped: a subdeployment needs its parent's deployment, which "
                    "this first revision creates",
                    keep=True,
                )
                continue
            _guard(clients.greengrass, {**props, "target_arn": stage.target_arn})
            ran = _deploy_and_judge(clients, props, stage)
            done[stage.target_arn] = ran.deployment_id
            if ran.met:
                progress(f"{label}: gate passed: {ran.line()}", keep=True)
                continue
            failed = f"{label}: rollout of {ran.deployment_id}: {ran.verdict()}"
            if not before:
                raise DdaError(f"{failed}; no earlier revision to revert to; {UNTOUCHED}")
            back = _deploy_and_judge(clients, {**props, **before}, stage)
            raise DdaError(
                f"{failed}: reverted to revision {back.deployment_id} ({_versions(before)}): "
                f"{back.line()}; {UNTOUCHED} ({_name(main)} still runs "
                f"{olds.get('deployment_id')})"
            )
        outs = self._deploy_and_wait(clients, olds, props, stages)
        targets = {s.target_arn for s in stages}
        _remove_stages(clients.greengrass, olds, props, keep=targets)
        recorded = {**(olds.get("stage_deployments") or {}), **done}
        outs["stage_deployments"] = {t: i for t, i in recorded.items() if t in targets and i}
        return outs

    def _deploy_and_wait(
        self, clients: AwsClients, olds: JSONDict, props: JSONDict, stages: list[Stage]
    ) -> JSONDict:
        """The new revision of the target itself and, with a rollout policy, its outcome."""
        policy = RolloutPolicy.parse(props.get("rollout"))
        target = arns.iot_target(props["target_arn"])
        assert target is not None, "check validated target_arn"
        devices = population(clients, target.kind, target.name, policy) if policy else []
        outs = _deploy(clients.greengrass, props)
        if policy is None:
            return {**outs, "rollout_result": {}, "last_good": {}}
        tally = wait(clients, outs["deployment_id"], devices, policy, progress)
        if tally.met:
            progress(
                f"rollout of {outs['deployment_id']} met its policy: {tally.line()}", keep=True
            )
            good = {k: props.get(k) for k in REVISION_INPUTS} | {
                "deployment_id": outs["deployment_id"]
            }
            return {**outs, "rollout_result": tally.output("met"), "last_good": good}
        failed = f"rollout of {outs['deployment_id']} to {target.name}: {tally.verdict()}"
        last_good = olds.get("last_good") or {}
        if policy.on_failure != "revert":
            raise DdaError(failed)
        if not last_good:
            raise DdaError(f"{failed}; no earlier revision met its policy, nothing to revert to")
        good_inputs = {k: last_good.get(k) for k in REVISION_INPUTS if k != "stages"}
        back = {**props, **good_inputs}
        reverted = _deploy(clients.greengrass, back)
        for stage in stages:
            if not stage.subdeployment:  # a new parent revision replaces the subdeployments
                _deploy(clients.greengrass, {**back, "target_arn": stage.target_arn})
        again = wait(clients, reverted["deployment_id"], devices, policy, progress)
        staged = " (and its stages)" if stages else ""
        raise DdaError(
            f"{failed}: reverted{staged} to revision {reverted['deployment_id']} "
            f"({_versions(back)}): {again.line()}"
        )

    @hook
    def update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        gg = self._clients(news).greengrass
        outs = _updated(olds, news)
        if _new_revision(olds, news):
            _guard(gg, news)
            outs.update(self._roll_out(olds, news))
            progress(f"{olds['deployment_id']} is superseded by {outs['deployment_id']}", keep=True)
        else:
            greengrass.set_tags(gg, str(olds["arn"]), olds.get("tags") or {}, news["tags"])
            if olds.get("keep_revisions") != news.get("keep_revisions"):
                greengrass.add_tags(gg, str(olds["arn"]), _keep_tag(news))
            progress(f"re-tagged {olds['arn']}")
        return UpdateResult(outs)

    @hook
    def planned_update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        """What :meth:`update` will return, for a preview (the ``dda`` plugin's provider
        previews): a new revision's ids and status are unknown until it is created."""
        outs = _updated(olds, news)
        if _new_revision(olds, news):
            outs.update(
                dict.fromkeys((*OUTPUT_KEYS, "rollout_result", "stage_deployments"), UNKNOWN)
            )
        return UpdateResult(outs)

    @hook
    def read(self, id_: str, props: JSONDict) -> ReadResult:
        gg = self._clients(props).greengrass
        deployment_id = str(props.get("deployment_id") or "")
        found = find_deployment(gg, deployment_id) if deployment_id else None
        current = None
        if found is not None and not found.get("isLatestForTarget"):
            current = current_deployment(gg, str(props["target_arn"]))
        same = _same_revision(gg, current, props)
        if same is not None:
            # Its own newer revision of the same components (a revert of a failed rollout, or
            # a create that crashed after deploying them): the target runs what the state says.
            progress(
                f"{id_} runs revision {same['deploymentId']} of the same components "
                f"(superseding {deployment_id}): refreshed to it",
                keep=True,
            )
            props = {**props, **_revision_outputs(str(props["target_arn"]), same)}
            found, reason = same, ""
        elif current is not None and not current.owned_by(str(props.get("owner") or "")):
            # Superseded by someone else: kept in state, so the next preview says so (check).
            progress(_superseded(deployment_id, str(props["target_arn"]), current), keep=True)
            reason = ""
        else:
            reason = _gone_reason(found)
        if reason:
            progress(
                f"deployment {deployment_id} of {id_} {reason}; it is dropped from the state "
                "and the next up deploys a new revision",
                keep=True,
            )
            return ReadResult("", {})
        assert found is not None
        outs = {k: v for k, v in props.items() if not k.startswith("__")}
        outs["deployment_status"] = str(found.get("deploymentStatus", ""))
        outs["tags"] = user_tags(greengrass.get_tags(gg, str(props["arn"])))
        outs["rollout_result"] = self._fleet(props)
        return ReadResult(id_, outs, {k: outs.get(k) for k in INPUT_KEYS})

    def _fleet(self, props: JSONDict) -> JSONDict:
        """With a rollout policy, what the devices report now (a refresh sees a fleet that
        drifted); logs the devices that moved outside the stack."""
        policy = RolloutPolicy.parse(props.get("rollout"))
        result = dict(props.get("rollout_result") or {})
        if policy is None or not result:
            return result
        now = observe(
            self._clients(props),
            str(props["target_arn"]),
            str(props["deployment_id"]),
            props["components"],
            policy,
            str(result.get("outcome") or "met"),
        )
        for device, runs in sorted(now["drifted"].items()):
            progress(
                f"{device} took revision {props['deployment_id']} but now runs {runs}: "
                "deployed outside this stack; the next change of this resource deploys again",
                keep=True,
            )
        return now

    @hook
    def delete(self, id_: str, props: JSONDict) -> None:
        gg = self._clients(props).greengrass
        recorded = dict(props.get("stage_deployments") or {})
        # A failed update deployed to its stages without saving their ids: the declared ones.
        declared = {s.target_arn for s in parse_stages(props.get("stages"))}
        for target in sorted(set(recorded) | declared):
            _drop_stage(gg, str(props.get("owner") or ""), target, str(recorded.get(target, "")))
        deployment_id = str(props.get("deployment_id") or "")
        found = find_deployment(gg, deployment_id) if deployment_id else None
        if found is None:
            progress(f"deployment {deployment_id} of {id_} is already gone")
            return
        if (
            found.get("isLatestForTarget")
            and found.get("deploymentStatus") != "CANCELED"
            and greengrass.cancel_deployment(gg, deployment_id)
        ):
            progress(f"cancelled {deployment_id}: devices that have not received it won't")
        if not greengrass.delete_deployment(gg, deployment_id):
            return
        progress(
            f"deleted deployment {deployment_id} of {id_}; devices keep the components they run",
            keep=True,
        )


def _takes_over(news: JSONDict) -> bool:
    value = news.get("takes_over")
    return isinstance(value, str) and bool(value) and not is_unknown(value)


def _new_revision(olds: JSONDict, news: JSONDict) -> bool:
    return _takes_over(news) or any(olds.get(k) != news.get(k) for k in REVISION_INPUTS)


@dataclass(frozen=True)
class CurrentDeployment:
    """The latest deployment of a target, and who made it (its ``pulumi-dda:owner`` tag)."""

    deployment_id: str
    name: str
    owner: str
    status: str

    def owned_by(self, owner: str) -> bool:
        return bool(self.owner) and self.owner == tag_value(owner)

    @property
    def label(self) -> str:
        name = f' "{self.name}"' if self.name else ""
        made = f"of {self.owner}" if self.owner else "(not made by pulumi-dda)"
        return f"deployment {self.deployment_id}{name} {made}"


def current_deployment(gg: GreengrassV2Client, target: str) -> CurrentDeployment | None:
    """The target's latest deployment (``ListDeployments`` ``LATEST_ONLY``), whatever its status:
    devices that applied a cancelled one still run its components."""
    for summary in greengrass.latest_deployments(gg, target):
        found = find_deployment(gg, str(summary["deploymentId"]))
        if found is None:
            continue  # deleted while listing
        return CurrentDeployment(
            deployment_id=str(found["deploymentId"]),
            name=str(found.get("deploymentName") or ""),
            owner=str((found.get("tags") or {}).get(OWNER_TAG, "")),
            status=str(found.get("deploymentStatus", "")),
        )
    return None


def _own_latest(gg: GreengrassV2Client, target: str, owner: str) -> str:
    """The id of ``owner``'s newest revision for ``target`` (within the newest
    ``OWN_HISTORY_LOOKS``), or ``""``."""
    with aws_errors(f"listing Greengrass deployment history of {target}"):
        pages = gg.get_paginator("list_deployments").paginate(targetArn=target, historyFilter="ALL")
        history = [str(d["deploymentId"]) for page in pages for d in page.get("deployments", [])]
    for deployment_id in history[:OWN_HISTORY_LOOKS]:
        found = find_deployment(gg, deployment_id)
        if found and (found.get("tags") or {}).get(OWNER_TAG) == tag_value(owner):
            return deployment_id
    return ""


def _superseded(mine: str, target: str, current: CurrentDeployment) -> str:
    return (
        f"deployment {mine or '(of this resource)'} for {target} was superseded by "
        f"{current.label}: take it back with take_over=True or remove this resource"
    )


def _refusal(target: str, current: CurrentDeployment) -> str:
    return (
        f"{target} already runs {current.label}; a deployment here would replace it and "
        "remove its components from the devices: set take_over=True to take the target over, "
        "or deploy to another target"
    )


def _guard(gg: GreengrassV2Client, props: JSONDict) -> None:
    """Just before ``CreateDeployment``: refuse another owner's current deployment unless
    ``take_over`` (another stack may have deployed since check); log a take-over."""
    target = str(props["target_arn"])
    current = current_deployment(gg, target)
    if current is None:
        return
    if current.owned_by(str(props["owner"])):
        progress(
            f"{target}: the new deployment supersedes its current one ({current.deployment_id})"
        )
    elif props.get("take_over"):
        progress(f"{target}: took over {current.label}", keep=True)
    else:
        raise DdaError(_refusal(target, current))


def _check_target_exists(clients: AwsClients, target: str) -> None:
    """``DescribeThing`` / ``DescribeThingGroup`` of the target, in the account called."""
    match = arns.iot_target(target)
    assert match is not None, "validated before"
    kind = "thing group" if match.kind == "thinggroup" else "thing"
    try:
        with aws_errors(f"looking up the IoT {kind} {match.name}"):
            if match.kind == "thinggroup":
                found = str(
                    clients.iot.describe_thing_group(thingGroupName=match.name).get(
                        "thingGroupArn", ""
                    )
                )
            else:
                found = str(clients.iot.describe_thing(thingName=match.name).get("thingArn", ""))
    except NotFoundError:
        raise InputError(
            f"target_arn: the IoT {kind} {match.name} does not exist ({target})",
            field="target_arn",
        ) from None
    if found and found != target:
        raise InputError(
            f"target_arn {target} is not in the account called: its {kind} there is {found}",
            field="target_arn",
        )


def _updated(olds: JSONDict, news: JSONDict) -> JSONDict:
    """An update's outputs but a new revision's ids: the old ones with the new inputs."""
    outs = {k: v for k, v in olds.items() if not k.startswith("__")}
    outs.update({k: news.get(k) for k in INPUT_KEYS})
    outs["takes_over"] = ""  # once made, the revision takes nothing over any more
    if _new_revision(olds, news):
        outs["revision_count"] = int(olds.get("revision_count") or 1) + 1
    return outs


def _gone_reason(found: JSONDict | None) -> str:
    if found is None:
        return "no longer exists (deleted outside this stack)"
    if not found.get("isLatestForTarget"):
        return "was superseded outside this stack (it is no longer the target's latest)"
    if found.get("deploymentStatus") == "CANCELED":
        return "was cancelled outside this stack"
    return ""


def _deploy(gg: GreengrassV2Client, props: JSONDict, parent: str = "") -> JSONDict:
    """``CreateDeployment`` of ``props`` (a new revision; with ``parent`` a subdeployment of
    that target's deployment); returns its ``OUTPUT_KEYS``."""
    target = str(props["target_arn"])
    request: JSONDict = {
        "targetArn": target,
        "components": api_components(props["components"]),
        "tags": {
            **props["tags"],
            OWNER_TAG: tag_value(str(props["owner"])),
            **_keep_tag(props),
        },
    }
    if parent:
        request["parentTargetArn"] = parent
    optional = {
        "deploymentName": props.get("deployment_name"),
        "deploymentPolicies": props.get("deployment_policies"),
        "iotJobConfiguration": props.get("iot_job_configuration"),
    }
    request.update({k: v for k, v in optional.items() if v})
    progress(f"deploying {', '.join(sorted(props['components']))} to {target}")
    created = greengrass.create_deployment(gg, request)
    progress(
        f"created deployment {created['deploymentId']} (IoT job {created.get('iotJobId', '')})",
        keep=True,
    )
    return _revision_outputs(target, {**created, "deploymentStatus": "ACTIVE"})


def _revision_outputs(target: str, revision: JSONDict) -> JSONDict:
    """The ``OUTPUT_KEYS`` of a revision (``CreateDeployment``'s or ``GetDeployment``'s answer)."""
    match = arns.iot_target(target)
    assert match is not None, "check validated target_arn"
    deployment_id = str(revision["deploymentId"])
    return {
        "deployment_id": deployment_id,
        "arn": str(
            arns.Arn(
                match.arn.partition,
                "greengrass",
                match.region,
                match.arn.account,
                f"deployments:{deployment_id}",
            )
        ),
        "iot_job_id": revision.get("iotJobId", ""),
        "iot_job_arn": revision.get("iotJobArn", ""),
        "deployment_status": str(revision.get("deploymentStatus", "")),
    }


def _same_revision(
    gg: GreengrassV2Client, current: CurrentDeployment | None, props: JSONDict
) -> JSONDict | None:
    """``current`` (``GetDeployment``) if this resource made it with the components in ``props``."""
    if current is None or not current.owned_by(str(props.get("owner") or "")):
        return None
    found = find_deployment(gg, current.deployment_id)
    if found is None or (found.get("components") or {}) != api_components(props["components"]):
        return None
    return found


def _deploy_and_judge(clients: AwsClients, props: JSONDict, stage: Stage) -> Tally:
    """A revision of ``props`` to a stage's target, waited on and judged by its gate."""
    target = arns.iot_target(stage.target_arn)
    assert target is not None, "parse_stages checked it"
    devices = population(clients, target.kind, target.name, stage.policy)
    parent = str(props["target_arn"]) if stage.subdeployment else ""
    outs = _deploy(clients.greengrass, {**props, "target_arn": stage.target_arn}, parent)
    return wait(clients, outs["deployment_id"], devices, stage.policy, progress)


def _remove_stages(gg: GreengrassV2Client, olds: JSONDict, props: JSONDict, keep: set[str]) -> None:
    """Cancel and delete this resource's deployments to stage targets it no longer has."""
    for target, deployment_id in sorted((olds.get("stage_deployments") or {}).items()):
        if target not in keep:
            _drop_stage(
                gg, str(props.get("owner") or olds.get("owner") or ""), target, deployment_id
            )


def _drop_stage(gg: GreengrassV2Client, owner: str, target: str, deployment_id: str) -> None:
    """This resource's revisions of a stage target: its current one (if this resource made it)
    cancelled if still rolling out, and deleted with the one recorded in state."""
    current = current_deployment(gg, target)
    ids = {deployment_id}
    if current is not None and current.owned_by(owner):
        ids.add(current.deployment_id)
    for each in sorted(i for i in ids if i):
        found = find_deployment(gg, each)
        if found is None:
            continue
        if found.get("isLatestForTarget") and found.get("deploymentStatus") == "ACTIVE":
            greengrass.cancel_deployment(gg, each)
        if greengrass.delete_deployment(gg, each):
            progress(f"deleted stage deployment {each} of {target}", keep=True)


def _keep_tag(props: JSONDict) -> dict[str, str]:
    return {KEEP_TAG: str(int(props.get("keep_revisions") or DEFAULTS["keep_revisions"]))}


def _name(target_arn: str) -> str:
    """``thing group line-1`` / ``thing core-1`` for messages."""
    found = arns.iot_target(target_arn)
    if found is None:
        return target_arn
    return f"{'thing group' if found.kind == 'thinggroup' else 'thing'} {found.name}"


def _versions(props: JSONDict) -> str:
    return ", ".join(
        f"{name} {spec.get('component_version')}"
        for name, spec in sorted((props.get("components") or {}).items())
    )


def preview_lines(olds: JSONDict, news: JSONDict) -> list[str]:
    """What a new revision does, stage by stage, for a preview: ``stage 1/2 (thing group
    canary): gets model-x 4.0.0 (was 2.0.0); gate: 100% of its devices within 600 s``, then
    ``stage 2/2 (thing group line): gets it after the gate``. Nothing without stages or a
    rollout policy (the engine's diff says it all), nor when no new revision is coming."""
    if olds and not _new_revision(olds, news):
        return []
    try:
        stages = parse_stages(news.get("stages"), news.get("target_arn"))
        policy = RolloutPolicy.parse(news.get("rollout"))
    except InputError:
        return []
    if not stages and policy is None:
        return []
    moves = _moves(olds.get("components") or {}, news.get("components"))
    total = len(stages) + 1
    lines = []
    for number, stage in enumerate(stages, 1):
        what = f"gets {moves}" if number == 1 else "gets it after the previous gate"
        skip = " (skipped: no parent deployment yet)" if stage.subdeployment and not olds else ""
        lines.append(
            f"stage {number}/{total} ({_name(stage.target_arn)}): {what}{skip}; "
            f"gate: {stage.policy.gate()}"
        )
    last = f"gets {moves}" if not stages else "gets it after the gates"
    gate = f"; {policy.gate()}, on failure {policy.on_failure}" if policy else ""
    prefix = f"stage {total}/{total} " if stages else ""
    lines.append(f"{prefix}({_name(str(news.get('target_arn')))}): {last}{gate}")
    return lines


def _moves(old: Mapping[str, Any], new: Any) -> str:
    """``model-x 4.0.0 (was 2.0.0), model-y 1.0.0 (new)``: what a revision changes."""
    if not is_known(new) or not isinstance(new, Mapping):
        return "the new components"
    moved = []
    for name, spec in sorted(new.items()):
        version = spec.get("component_version") if isinstance(spec, Mapping) else None
        was = (old.get(name) or {}).get("component_version") if name in old else None
        if was is None:
            moved.append(f"{name} {version} (new)")
        elif was != version:
            moved.append(f"{name} {version} (was {was})")
    moved += [f"no {name}" for name in sorted(set(old) - set(new))]
    return ", ".join(moved) or "a new revision of the same components"


def api_components(components: Mapping[str, Any]) -> JSONDict:
    """Our snake_case component specifications in the API's camelCase shape."""
    result: JSONDict = {}
    for name, spec in components.items():
        item: JSONDict = {"componentVersion": spec["component_version"]}
        update = spec.get("configuration_update") or {}
        if update:
            item["configurationUpdate"] = {k: update[k] for k in ("merge", "reset") if k in update}
        result[name] = item
    return result
