"""The component-state waiter: pending states, backoff, a bounded timeout, failure reasons."""

from __future__ import annotations

import pytest

from pulumi_dda.errors import AwsError, WaitTimeoutError
from pulumi_dda.greengrass import PENDING_STATES, wait_for_state


def _states(*states: tuple[str, str]) -> tuple[list[float], object]:
    sleeps: list[float] = []
    queue = list(states)

    def refresh() -> tuple[str, str]:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return sleeps, refresh


def test_pending_states_are_waited_out_with_growing_delays() -> None:
    sleeps, refresh = _states(
        ("REQUESTED", ""), ("INITIATED", ""), ("INITIATED", ""), ("INITIATED", ""),
        ("DEPLOYABLE", ""),
    )  # fmt: skip
    lines: list[str] = []
    wait_for_state(
        refresh,  # type: ignore[arg-type]
        pending=PENDING_STATES, target="DEPLOYABLE", timeout=60, what="c",
        progress=lines.append, sleep=sleeps.append,
    )  # fmt: skip
    assert sleeps == [0.2, 0.4, 0.8, 1.6]
    assert lines == ["c: REQUESTED", "c: INITIATED"]


def test_a_failed_state_raises_with_the_service_reason() -> None:
    sleeps, refresh = _states(("REQUESTED", ""), ("FAILED", "s3://b/k: cannot be accessed"))
    with pytest.raises(AwsError, match=r"to become DEPLOYABLE: FAILED: s3://b/k: cannot be"):
        wait_for_state(
            refresh,  # type: ignore[arg-type]
            pending=PENDING_STATES, target="DEPLOYABLE", timeout=60, what="c",
            sleep=sleeps.append,
        )  # fmt: skip


def test_the_wait_is_bounded_and_the_delay_capped() -> None:
    slept: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    with pytest.raises(WaitTimeoutError, match="still INITIATED after 60 s"):
        wait_for_state(
            lambda: ("INITIATED", ""), pending=PENDING_STATES, target="DEPLOYABLE",
            timeout=60, what="c", sleep=sleep, clock=lambda: clock[0],
        )  # fmt: skip
    assert max(slept) == 10.0
    assert sum(slept) <= 60
