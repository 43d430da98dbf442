"""Step Functions' history limit: an execution fails once its history holds 25,000 events.

A Standard execution records events for every state it enters and leaves (and
a Task's scheduling, start, submission and result), so a long run fails
mid-way with `States.Runtime` ("history limit exceeded") instead of the cause
the flow means.  Recursion is what makes a run long: each iteration of a
recursive step costs its Task, the read of its choice, the Choice and the
counter's Pass.  This module counts, from the IR and with the same shape the
lowering builds, the most events one execution can record (every @retry
attempt failing but the last; each recursion at its @recursion(max=); the
costliest branch of each conditional), and reports a recursion whose bound
could exceed the limit at its @recursion line, with the largest bound that fits.

A Distributed Map's iterations are child executions with histories of their
own, so a foreach body is counted as its own execution.  The counts below are
the events AWS documents per state type on the success path; the read of a
switch's choice counts without its own (transient) retries.

A bound that passes the limit with every attempt succeeding is an error (a run
that reaches it fails, whatever happens); one that passes it only when the
@retry attempts fail too is a warning (the run reaching it would have failed
anyway, just later and less clearly).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, Step, StepKind
from flowc.compiler.targets import step_functions_retry as retry_loop, step_functions_switch as switch

HISTORY_LIMIT_EVENTS = 25_000
BATCH_TASK_EVENTS = 6  # Entered, Scheduled, Started, Submitted, Succeeded (or Failed), Exited
SDK_TASK_EVENTS = 5  # Entered, Scheduled, Started, Succeeded, Exited
FLOW_STATE_EVENTS = 2  # Pass, Choice, Wait, Succeed: Entered, Exited
PARALLEL_EVENTS = 4  # Entered, Started, Succeeded, Exited
MAP_EVENTS = 4  # Entered, MapRunStarted, MapRunSucceeded, Exited (its iterations are child executions)
EXECUTION_EVENTS = 2  # ExecutionStarted, ExecutionSucceeded
INPUT_STATES = 2  # input-defaults, input-merged: every execution
PARAMETER_STATES = 2  # parameters-merge, -apply: a flow with parameters


@dataclass
class _Count:
    events: int = 0
    recursions: list[tuple[Step, int]] = field(default_factory=list)  # (step, events of one iteration)

    def add(self, other: _Count) -> None:
        self.events += other.events
        self.recursions += other.recursions


def step_events(step: Step, retries_fail: bool = True) -> int:
    """The most events one run of a step's Task (and its retry loop) records; without failing retries, the fewest."""
    if not retry_loop.has_retry_loop(step):
        return BATCH_TASK_EVENTS
    if not retries_fail:
        return FLOW_STATE_EVENTS + BATCH_TASK_EVENTS  # the first-attempt Pass, then the Task
    retries = step.retry.times
    per_retry = FLOW_STATE_EVENTS * (4 + (1 if step.retry.delay_seconds else 0))  # exit-code .. next-attempt
    return FLOW_STATE_EVENTS + (retries + 1) * BATCH_TASK_EVENTS + retries * per_retry


def iteration_events(step: Step, retries_fail: bool = True) -> int:
    """One iteration of a recursive step: its Task, the read of its choice, the Choice, the counter's Pass."""
    return step_events(step, retries_fail) + SDK_TASK_EVENTS + 2 * FLOW_STATE_EVENTS


class _Counter:
    def __init__(self, flow: FlowGraph, retries_fail: bool):
        self.flow = flow
        self.retries_fail = retries_fail
        self.executions: list[_Count] = []  # one per foreach body, each its own child execution

    def step_events(self, step: Step) -> int:
        return step_events(step, self.retries_fail)

    def chain(self, first: str, stop: str | None) -> _Count:
        count, name = _Count(), first
        while name is not None and name != stop:
            step = self.flow.step(name)
            if step.kind is StepKind.SPLIT:
                count.events += self.step_events(step) + PARALLEL_EVENTS
                for child in step.next:
                    count.add(self.chain(child, step.matching_join))
                name = step.matching_join
            elif step.kind is StepKind.FOREACH:
                count.events += self.step_events(step) + MAP_EVENTS
                body = self.chain(step.next[0], step.matching_join)
                body.events += EXECUTION_EVENTS
                self.executions.append(body)
                name = step.matching_join
            elif step.is_switch:
                count.add(self.switch(step))
                name = step.meeting
            else:
                count.events += self.step_events(step)
                name = step.next[0] if step.kind is not StepKind.END and step.next else None
        return count

    def switch(self, step: Step) -> _Count:
        count = _Count()
        if not switch.needs_choice(step):
            count.events = self.step_events(step)
            return count
        if step.is_recursive:
            per_iteration = iteration_events(step, self.retries_fail)
            count.events = FLOW_STATE_EVENTS + per_iteration * step.recursion_max
            count.recursions.append((step, per_iteration))
        else:
            count.events = self.step_events(step) + SDK_TASK_EVENTS + FLOW_STATE_EVENTS
        branches = [self.chain(b, step.meeting) for b in step.branches if b != step.meeting]
        if branches:
            count.add(max(branches, key=lambda c: c.events))
        return count


def most_events(flow: FlowGraph, retries_fail: bool = True) -> list[_Count]:
    """The most events each execution can record: the top-level one first, then each foreach body's."""
    counter = _Counter(flow, retries_fail)
    top = counter.chain("start", None)
    top.events += EXECUTION_EVENTS + (INPUT_STATES + (PARAMETER_STATES if flow.parameters else 0)) * FLOW_STATE_EVENTS
    return [top, *counter.executions]


def history_problems(flow: FlowGraph) -> list[Diagnostic]:
    """A recursion whose @recursion(max=) lets one execution's history pass the limit, at its line."""
    problems = []
    certain = most_events(flow, retries_fail=False)
    for index, count in enumerate(most_events(flow)):
        if count.events <= HISTORY_LIMIT_EVENTS or not count.recursions:
            continue  # without a recursion the definition's size limit is reached long before this one
        fails_anyway = certain[index].events > HISTORY_LIMIT_EVENTS
        if fails_anyway:
            count = certain[index]
        step, per_iteration = max(count.recursions, key=lambda r: r[1] * r[0].recursion_max)
        others = count.events - per_iteration * step.recursion_max
        fits = (HISTORY_LIMIT_EVENTS - others) // per_iteration
        what = f"lower max to {fits:,} or less" if fits > 0 else "shorten the rest of this execution"
        when = "" if fails_anyway else " if its @retry attempts fail"
        problems.append(
            Diagnostic(
                step.location_of("recursion"),
                f"step-functions: recursive step {step.name!r} may run {step.recursion_max:,} iterations "
                f"(@recursion(max={step.recursion_max})) of {per_iteration} history events each{when}, so one "
                f"execution's history could reach {count.events:,} events, over Step Functions' "
                f"{HISTORY_LIMIT_EVENTS:,}-event limit; {what}, or make the recursion a foreach body (each item's "
                "iterations are a child execution with its own history)",
                severity="error" if fails_anyway else "warning",
            )
        )
    return problems
