"""How the Airflow target runs conditionals and recursive steps: which tasks a step becomes, and when each runs.

Airflow's own branching (BaseBranchOperator, `@task.branch`) skips a downstream
task for every map index unless both sit in one mapped task group, and flowc
maps each foreach body step on its own (flowc/compiler/targets/airflow.py): a
conditional inside a foreach, where each child chooses its own branch, cannot
be said with it.  So every task below a switch decides for itself, per map
index, from its parents' XComs (flowc/templates/airflow_helpers.py
`should_run`): it runs if any parent "leads here" (a switch parent chose this
step, or an ordinary parent ran: every flowc task's XCom is non-empty once it
ran), else it raises AirflowSkipException.  Its trigger rule is
`none_failed_min_one_success`, so it waits for every parent, fails with a
failed one, and is skipped by Airflow itself when every parent was skipped.

An acyclic DAG cannot loop: a recursive step is unrolled into
`recursion_max` tasks `<step>-0` ... `<step>-<max-1>`; iteration N runs only
if iteration N-1 chose the step again.  The runtime still enforces
`@recursion(max=)` (an iteration choosing itself on the last one fails with
its named cause), so the unrolled copies never run out first.  Every copy is a
task in the DAG, so the unrolling is bounded: MAX_UNROLLED_ITERATIONS.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, Step, StepKind

# Copies of one recursive step in the DAG: @recursion's default (100) fits; more is refused at the step.
MAX_UNROLLED_ITERATIONS = 100
GATHERING_TRIGGER_RULE = "none_failed_min_one_success"


@dataclass(frozen=True)
class RunCondition:
    """One way a task is reached: `parent`'s XCom equals `chose` (a switch's choice) or, when None, exists."""

    parent: str  # the parent's Airflow task id
    chose: str | None
    same_map_index: bool  # the parent is mapped over the same list (else: any of its instances)

    def as_tuple(self) -> tuple:
        return (self.parent, self.chose, self.same_map_index)


@dataclass(frozen=True)
class StepTask:
    """One Airflow task of a step: the step itself, or one iteration of a recursive step."""

    task_id: str
    iteration: int | None
    upstream: tuple[str, ...]
    run_if: tuple[RunCondition, ...]  # empty: an ordinary task, Airflow's default trigger rule


def task_ids(step: Step) -> list[str]:
    """The Airflow task ids of a step: its name, or one per iteration for a recursive step."""
    if step.is_recursive:
        return [iteration_task_id(step.name, i) for i in range(step.recursion_max)]
    return [step.name]


def iteration_task_id(step_name: str, iteration: int) -> str:
    """`count-3`: a step name is an identifier, so no other task id (`<foreach>-task-ids` included) has it."""
    return f"{step_name}-{iteration}"


def unsupported(flow: FlowGraph) -> list[Diagnostic]:
    """Recursion unrolled past the bound, and a foreach a mapped task cannot skip per child."""
    problems = []
    for step in flow.steps:
        if step.is_recursive and step.recursion_max > MAX_UNROLLED_ITERATIONS:
            problems.append(
                Diagnostic(
                    step.location,
                    f"airflow: recursive step {step.name} would be unrolled into {step.recursion_max} tasks "
                    f"(an Airflow DAG cannot loop); at most {MAX_UNROLLED_ITERATIONS}: "
                    f"lower @recursion(max=)",
                )
            )
        if step.is_switch and step.compute.backend == "skypilot":
            problems.append(
                Diagnostic(
                    step.location,
                    f"airflow: @skypilot step {step.name} is a conditional; its launcher hands on neither the "
                    "chosen branch nor a recursive step's iteration",
                )
            )
        if step.is_switch and step.foreach_depth:
            for name in _branch_region(flow, step):
                if flow.step(name).kind is StepKind.FOREACH:
                    problems.append(
                        Diagnostic(
                            flow.step(name).location,
                            f"airflow: foreach step {name} is in a branch of conditional step {step.name} inside "
                            "a foreach; its mapped tasks cannot be skipped for one foreach child only",
                        )
                    )
    return problems


def _branch_region(flow: FlowGraph, switch: Step) -> set[str]:
    """The steps on the switch's branches before they meet."""
    region, todo = set(), list(switch.branches)
    while todo:
        name = todo.pop()
        if name in region or name == switch.meeting:
            continue
        region.add(name)
        todo += [n for n in flow.step(name).next if n != name]
    return region


def plan(flow: FlowGraph) -> dict[str, list[StepTask]]:
    """Each step's tasks, their upstream task ids and their run conditions."""
    conditional = _conditional_steps(flow)
    tasks = {}
    for step in flow.steps:
        upstream = tuple(t for parent in step.parents for t in task_ids(flow.step(parent)))
        run_if = _parent_conditions(flow, step) if step.name in conditional else ()
        first = StepTask(task_ids(step)[0], 0 if step.is_recursive else None, upstream, run_if)
        tasks[step.name] = [first]
        for i in range(1, step.recursion_max if step.is_recursive else 1):
            previous = iteration_task_id(step.name, i - 1)
            again = RunCondition(previous, step.name, True)
            tasks[step.name].append(StepTask(iteration_task_id(step.name, i), i, (previous,), (again,)))
    return tasks


def _parent_conditions(flow: FlowGraph, step: Step) -> tuple[RunCondition, ...]:
    conditions = []
    for parent in flow.parents(step.name):
        chose = step.name if parent.is_switch else None
        same = parent.foreach_scope == step.foreach_scope
        conditions += [RunCondition(t, chose, same) for t in task_ids(parent)]
    return tuple(conditions)


def _conditional_steps(flow: FlowGraph) -> set[str]:
    """Steps that may be skipped, or must run although a parent was skipped: a branch's steps in its switch's
    foreach scope, and every meeting step (a recursive step's exit too, even a join in an outer scope).

    A deeper step (a foreach body inside a branch) is skipped as a whole by Airflow's default rule when
    its foreach step was; a step after a meeting step runs whenever the meeting step did."""
    found: set[str] = set()
    for switch in flow.steps:
        if switch.is_switch:
            region = _branch_region(flow, switch)
            found |= {name for name in region if flow.step(name).foreach_scope == switch.foreach_scope}
            found.add(switch.meeting)
    return found
