"""Conditionals and recursion on Argo: `when` on a switch's output, `depends` that sees skipped branches, loops.

How Argo evaluates them (docs/enhanced-depends-logic.md, controller dag.go):

- A task whose `when` is false is Skipped; a task whose `depends` is false is
  Omitted.  A bare task name in `depends` means `(t.Succeeded || t.Skipped ||
  t.Daemoned)`, so a step after a skipped branch step would still run.  So a
  step that may not run (inside a branch, `may_not_run`) is named with an
  explicit `.Succeeded` by the steps after it: the rest of an unchosen branch
  is then Omitted, step after step.  A foreach body (a task group) may also be
  Skipped when its list is empty, so it is named `(b.Succeeded || b.Skipped)`.
- `depends` waits until every task it names has finished (run, Skipped or
  Omitted) before it is evaluated, so the meeting step names every branch's
  last step with `||`: it runs once, after whichever branch ran.  A branch that
  goes straight from the switch to the meeting step is "the switch succeeded
  and every other branch's first step was Skipped".
- Flows without a conditional keep the bare names (and the same manifests).

A recursive step is a DAG template `<step>-loop` that runs the step and then,
`when` it chose itself, calls itself with the next iteration's number, which
the runtime writes (`--next-iteration-out`): argo_sim (and this project) use
no `{{=...}}` expressions.  The runtime counts and fails the iteration past
@recursion(max=...); Argo's controller refuses templates nested deeper than
100 (`maxStackDepth`), which argo_checks measures at compile time.
"""

from __future__ import annotations

from flowc.compiler.ir import FlowGraph, Step, StepKind
from flowc.compiler.targets import argo_names as names

BRANCH_OUT = "/tmp/flowc-branch"
BRANCH_OUTPUT = "branch"  # output parameter of a switch step: the chosen step's name
NEXT_ITERATION_OUT = "/tmp/flowc-next-iteration"
NEXT_ITERATION_OUTPUT = "next-iteration"  # output parameter of a recursive step: its iteration + 1
ITERATION_INPUT = "iteration"
AGAIN_TASK = "again"  # the task of a loop template that runs the next iteration


def may_not_run(flow: FlowGraph) -> frozenset[str]:
    """The steps inside some switch's branches (before its meeting step): those that run only if chosen."""
    found: set[str] = set()
    for switch in flow.steps:
        if not switch.is_switch:
            continue
        pending = [b for b in switch.branches if b != switch.meeting]
        while pending:
            name = pending.pop()
            if name in found or name == switch.meeting:
                continue
            found.add(name)
            pending += [n for n in flow.step(name).next if n != name]
    return frozenset(found)


def chosen(switch_task: str, step_name: str) -> str:
    """The `when` that the switch task chose `step_name` (a Python identifier: nothing to escape)."""
    return "'{{tasks.%s.outputs.parameters.%s}}' == '%s'" % (switch_task, BRANCH_OUTPUT, step_name)


def when_chosen(flow: FlowGraph, step: Step) -> str | None:
    """A branch's first step runs `when` its switch chose it (the meeting step and a loop's exit never wait so)."""
    switches = [p for p in flow.parents(step.name) if p.is_switch and step.name != p.meeting]
    return " || ".join(chosen(names.step_name(p.name), step.name) for p in switches) or None


def task_result(task: str, conditional: bool, body: bool = False) -> str:
    """How `depends` names a finished parent task: bare when it always runs, else by its results (see above)."""
    if not conditional:
        return task
    return f"({task}.Succeeded || {task}.Skipped)" if body else f"{task}.Succeeded"


def depends(flow: FlowGraph, step: Step, scope: tuple[str, ...], conditional: frozenset[str]) -> str | None:
    """The `depends` expression of `step`'s task in the DAG of `scope`."""
    terms: list[str] = []
    for parent in flow.parents(step.name):
        if parent.foreach_scope == scope:
            task = names.step_name(parent.name)
            term = task_result(task, parent.name in conditional)
            if parent.is_switch and step.name == parent.meeting and step.name in parent.next:
                # The switch may go straight to its meeting step: it ran, and no other branch was started.
                others = [names.step_name(b) for b in parent.branches if b != step.name]
                if others:
                    term = "(" + " && ".join([f"{task}.Succeeded"] + [f"{o}.Skipped" for o in others]) + ")"
        elif len(parent.foreach_scope) > len(scope):
            foreach = parent.foreach_scope[len(scope)]
            term = task_result(names.body_template_name(foreach), foreach in conditional, body=True)
        else:
            continue  # the foreach step that opens this body; the body task already waits for it
        terms.append(term)
    terms = list(dict.fromkeys(terms))
    return (" || " if step.meets else " && ").join(terms) or None


# ---------------------------------------------------------------------------
# Recursion


def loop_template(step: Step, task_id_inputs: list, pass_task_id: list):
    """`<step>-loop`: run iteration N of `step`, then the loop again with N+1 while the step chooses itself.

    `task_id_inputs` and `pass_task_id` are the task-id input and argument inside a foreach (else empty)."""
    from hera.workflows import models as m

    task = names.step_name(step.name)
    loop = names.loop_template_name(step.name)
    given = list(pass_task_id)
    inputs = list(task_id_inputs) + [m.Parameter(name=ITERATION_INPUT)]

    def call(iteration: str):
        return m.Arguments(parameters=given + [m.Parameter(name=ITERATION_INPUT, value=iteration)])

    return m.Template(
        name=loop,
        inputs=m.Inputs(parameters=inputs),
        dag=m.DAGTemplate(
            tasks=[
                m.DAGTask(name=task, template=task, arguments=call("{{inputs.parameters.%s}}" % ITERATION_INPUT)),
                m.DAGTask(
                    name=AGAIN_TASK,
                    template=loop,
                    depends=task,
                    when=chosen(task, step.name),
                    arguments=call("{{tasks.%s.outputs.parameters.%s}}" % (task, NEXT_ITERATION_OUTPUT)),
                ),
            ]
        ),
    )


def first_iteration(arguments):
    """The arguments of the task that starts a loop: the enclosing task id (in a foreach), iteration 0."""
    from hera.workflows import models as m

    given = list(arguments.parameters) if arguments is not None else []
    return m.Arguments(parameters=given + [m.Parameter(name=ITERATION_INPUT, value="0")])


def step_outputs(step: Step, foreach_output: str, foreach_out: str):
    """A step template's output parameters: a foreach's split list, a switch's choice, a loop's next number."""
    from hera.workflows import models as m

    found = []
    if step.kind is StepKind.FOREACH:
        found.append(m.Parameter(name=foreach_output, value_from=m.ValueFrom(path=foreach_out)))
    if step.is_switch:
        found.append(m.Parameter(name=BRANCH_OUTPUT, value_from=m.ValueFrom(path=BRANCH_OUT)))
    if step.is_recursive:
        found.append(m.Parameter(name=NEXT_ITERATION_OUTPUT, value_from=m.ValueFrom(path=NEXT_ITERATION_OUT)))
    return m.Outputs(parameters=found) if found else None


def step_inputs(step: Step, task_id_inputs: list):
    """The task id inside a foreach (`task_id_inputs`); the iteration of a recursive step."""
    from hera.workflows import models as m

    found = list(task_id_inputs) if step.foreach_depth else []
    if step.is_recursive:
        found.append(m.Parameter(name=ITERATION_INPUT))
    return m.Inputs(parameters=found) if found else None
