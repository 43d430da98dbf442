"""The orchestrator's own view of one run, as every target's `status` returns it (`flowc status` prints it).

Neutral on purpose: Argo's nodes, Step Functions' states and Airflow's task
instances all become `NodeView`s named by the step they run, so the CLI sets
them beside the datastore's tasks without knowing the target.  A node the
orchestrator knows and the datastore does not is a task that never started
(pod pending, image pull error, Batch job stuck in its queue): `detail` says why
when the orchestrator says.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeView:
    """One unit of work as the orchestrator sees it: an Argo node, a Step Functions state, an Airflow task instance."""

    name: str  # the orchestrator's own name (node display name, state name, task id[map index])
    step: str | None  # the flow step it runs; None for the orchestrator's own plumbing
    state: str  # the orchestrator's word: Pending/Running/Failed, SUCCEEDED/FAILED, queued/success/failed
    detail: str | None = None  # its message: the error, the cause, why it waits


@dataclass(frozen=True)
class RunView:
    """The run as the orchestrator sees it."""

    target: str
    where: str  # how the orchestrator names it: namespace/workflow, execution ARN, dag_id/dag_run_id
    state: str  # Argo phase, execution status, dag-run state
    detail: str | None = None  # the run's message / failure cause
    nodes: tuple[NodeView, ...] = ()
