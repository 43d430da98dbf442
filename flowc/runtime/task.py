"""Run one task: rebuild `self` from the parents' artifacts, run the step, store, mark done."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field

from flowc.api.configs import set_config_values
from flowc.contract import layout
from flowc.contract.command import EXIT_CORRUPT, EXIT_FAILED, EXIT_OK, EXIT_USAGE, NOT_RETRIED, ORIGIN_RUN_FLAG
from flowc.contract.ids import iteration_task_id, parent_task_of_child
from flowc.contract.layout import task_key
from flowc.runtime import graph as g
from flowc.runtime import branching
from flowc.runtime.user_decorators import UserDecoratorRefused
from flowc.runtime.artifacts import ArtifactError, ArtifactSource, InputTask, Inputs, TaskFailure, merge
from flowc.runtime.datastore import CorruptBlob, DatastoreError, open_datastore
from flowc.runtime.execute import execute_step, record_attempt
from flowc.runtime.logs import capture_output
from flowc.runtime.parameters import convert_parameters, flow_parameters
from flowc.runtime.reuse import Origin, clone_task, record_run, rerun_steps


@dataclass
class TaskRequest:
    flow_file: str
    step: str
    run_id: str
    task_id: str
    datastore: str
    params: dict = field(default_factory=dict)
    attempt: int = 0
    max_attempts: int | None = None
    foreach_out: str | None = None
    branch_out: str | None = None  # a switch also writes the chosen step's name here (--branch-out)
    iteration: int | None = None  # a recursive step's iteration (--iteration); its task is <task_id>-<iteration>
    package: str | None = None
    decorators: dict = field(default_factory=dict)  # attached by --with; the step's own win
    configs: dict = field(default_factory=dict)  # --config-values: the Configs as the compiler resolved them
    project_branch: str | None = None  # --project-branch: the @project branch the run belongs to
    origin: Origin | None = None  # --origin-run: a remote resume reuses this run's finished tasks

    @property
    def stored_task_id(self) -> str:
        """The task's folder name: the task id, or `<task id>-<iteration>` for a recursive step's iteration."""
        return self.task_id if self.iteration is None else iteration_task_id(self.task_id, self.iteration)


class TaskContext:
    """What `self` reaches through `_flowc_task`: artifacts, parameters, input/index."""

    def __init__(self, store, flow_name, request: TaskRequest, steps: dict, flow_class):
        self.store = store
        self.flow = flow_name
        self.request = request
        self.steps = steps
        self.info: g.StepInfo = steps[request.step]
        self.flow_class = flow_class
        self.refs: dict[str, str] = {}  # inherited or merged artifact references
        self.source = ArtifactSource(store, flow_name, {})
        self.parameter_values: dict[str, object] = {}
        self.parents: list[tuple[str, str]] = []

    def meta(self, step: str, task_id: str) -> dict:
        key = task_key(self.flow, self.request.run_id, step, task_id)
        if not self.store.exists(f"{key}/{layout.DONE}"):
            raise TaskFailure(f"parent task {step}/{task_id} of run {self.request.run_id} has not finished")
        return json.loads(self.store.read_text(f"{key}/{layout.META}"))

    def load_artifact(self, name: str):
        if name in self.refs:
            self.source.refs.setdefault(name, self.refs[name])
            return True, self.source.load(name)
        return False, None

    def parameter_value(self, parameter):
        if parameter.attribute in self.parameter_values:
            return self.parameter_values[parameter.attribute]
        found, value = self.load_artifact(parameter.attribute)
        return value if found else parameter.default

    def foreach_index(self):
        if not self.info.foreach_scope:
            return None
        return int(self.request.task_id.rpartition(".")[2])

    def foreach_input(self):
        # Read once: a step may touch self.input in a loop, and each read is datastore round trips.
        if "_foreach_item" not in vars(self):
            if not self.info.foreach_scope:
                raise AttributeError(f"self.input: step '{self.info.name}' is not inside a foreach")
            foreach_step = self.steps[self.info.foreach_scope[-1]]
            meta = self.meta(foreach_step.name, parent_task_of_child(self.request.task_id))
            items_ref = (meta.get("foreach") or {}).get("items")
            if items_ref is not None:  # the items in the one order the foreach step listed them
                items = ArtifactSource(self.store, self.flow, {"items": items_ref}).load("items")
            else:  # a run from before foreach items were stored
                items = list(ArtifactSource(self.store, self.flow, meta["artifacts"]).load(foreach_step.foreach_var))
            self._foreach_item = items[self.foreach_index()]
        return self._foreach_item

    def foreach_stack(self):
        return (
            [(name, int(part)) for name, part in zip(self.info.foreach_scope, self.request.task_id.split("."))]
            if self.info.foreach_scope
            else []
        )

    def merge_artifacts(self, flow_self, inputs, include=None, exclude=None):
        already = {k for k in vars(flow_self) if not k.startswith("_")}
        merged = merge(self.refs, already, inputs, self.info.name, include=include, exclude=exclude)
        for name in merged:  # a value read before merging must not shadow the merged one
            vars(flow_self).pop(name, None)

    # -- parents -------------------------------------------------------------

    def parent_tasks(self) -> list[tuple[str, str]]:
        info, task_id = self.info, self.request.task_id
        if self.request.iteration:  # a recursion's iteration N > 0: its input is iteration N-1
            return [(info.name, iteration_task_id(task_id, self.request.iteration - 1))]
        if not info.parents:
            return []
        if info.takes_inputs and info.closes is not None:
            closed = self.steps[info.closes]
            if closed.is_foreach:
                listed = self.store.read_text(
                    task_key(self.flow, self.request.run_id, closed.name, task_id, layout.FOREACH)
                )
                if listed is None:
                    raise TaskFailure(f"foreach step {closed.name}/{task_id} has no split list in the datastore")
                children = json.loads(listed)
                return [(p, self.stored_task(p, c)) for c in children for p in info.parents]
            return [(p, self.stored_task(p, task_id)) for p in info.parents]
        if len(info.parents) > 1 and info.meets:
            return [self.branch_that_ran()]
        parent = self.steps[info.parents[0]]
        return [
            (
                parent.name,
                self.stored_task(parent.name, parent_task_of_child(task_id) if parent.is_foreach else task_id),
            )
        ]

    def stored_task(self, step: str, task_id: str) -> str:
        """The task of `step` this task reads: `task_id`, or a recursive step's last finished iteration."""
        if not self.steps[step].is_recursive:
            return task_id
        last = branching.last_iteration(self.store, self.flow, self.request.run_id, step, task_id)
        if last is None:
            raise TaskFailure(f"recursive step {step}/{task_id} of run {self.request.run_id} has no finished iteration")
        return last

    def branch_that_ran(self) -> tuple[str, str]:
        """The meeting step's one parent: the branch with a finished task (a switch counts if it chose this step)."""
        info, task_id, ran = self.info, self.request.task_id, []
        for name in info.parents:
            parent = self.steps[name]
            own = parent_task_of_child(task_id) if parent.is_foreach else task_id
            try:
                stored = self.stored_task(name, own)
            except TaskFailure:
                continue
            if not self.store.exists(task_key(self.flow, self.request.run_id, name, stored, layout.DONE)):
                continue
            if parent.is_switch:
                branch = branching.read_branch(self.store, self.flow, self.request.run_id, name, stored)
                if branch is None or branch.get(layout.BRANCH_NEXT) != info.name:
                    continue
            ran.append((name, stored))
        if len(ran) != 1:
            found = ", ".join(f"{s}/{t}" for s, t in ran) or "none"
            raise TaskFailure(
                f"step '{info.name}' meets the branches of {', '.join(info.meets)}: exactly one of "
                f"{', '.join(info.parents)} must have run in run {self.request.run_id}, found {found}"
            )
        return ran[0]

    def build_inputs(self) -> Inputs | None:
        self.parents = self.parent_tasks()
        metas = [(step, task, self.meta(step, task)) for step, task in self.parents]
        if not self.info.takes_inputs:
            if metas:
                self.refs = dict(metas[0][2]["artifacts"])
            return None
        tasks = [
            InputTask(step, task, ArtifactSource(self.store, self.flow, meta["artifacts"]))
            for step, task, meta in metas
        ]
        # Parameters reach every step, joins included.
        if metas:
            for parameter in flow_parameters(self.flow_class):
                sha = metas[0][2]["artifacts"].get(parameter.attribute)
                if sha is not None:
                    self.refs[parameter.attribute] = sha
        return Inputs(tasks)


def run_task(request: TaskRequest) -> int:
    """Run one attempt of one task; returns the process exit code."""
    from flowc.runtime.loader import FlowLoadError, find_flow_class, import_flow_module

    where = f"step '{request.step}' task {request.stored_task_id} (run {request.run_id}, attempt {request.attempt})"
    try:
        store = open_datastore(request.datastore)
    except ValueError as exc:
        print(f"flowc.runtime: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    started = time.time()
    with capture_output() as logs:
        try:
            set_config_values(request.configs)  # before the import: its decorators may read a config
            module = import_flow_module(request.flow_file)
            flow_class = find_flow_class(module)
            steps = g.scan(flow_class)
        except (FlowLoadError, g.GraphError) as exc:
            print(f"flowc.runtime: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except Exception:
            import traceback

            traceback.print_exc()
            print(f"flowc: {where} failed: the flow file could not be imported", file=sys.stderr)
            return EXIT_FAILED
        flow_name = flow_class.__name__
        if request.step not in steps:
            print(f"flowc.runtime: error: flow {flow_name} has no step {request.step!r}", file=sys.stderr)
            return EXIT_USAGE
        problem = _iteration_problem(steps[request.step], request)
        if problem:
            print(f"flowc.runtime: error: {problem}", file=sys.stderr)
            return EXIT_USAGE
        if request.origin and request.origin.from_step and request.origin.from_step not in steps:
            print(
                f"flowc.runtime: error: {ORIGIN_RUN_FLAG}: flow {flow_name} has no step "
                f"{request.origin.from_step!r} to re-run from",
                file=sys.stderr,
            )
            return EXIT_USAGE
        key = task_key(flow_name, request.run_id, request.step, request.stored_task_id)
        try:
            if not request.iteration and not steps[request.step].parents:
                record_run(store, flow_name, request.run_id, request.params, request.origin)
            if store.exists(f"{key}/{layout.DONE}"):
                return already_done(store, key, request, where)
            if reused_from_origin(store, flow_name, steps, request):
                return already_done(store, key, request, where)
            if (earlier := earlier_final_failure(store, key, request.attempt)) is not None:
                print(f"flowc: {where} failed: not run again: {earlier[1]}", file=sys.stderr)
                return earlier[0]
        except DatastoreError as exc:
            print(f"flowc: {where} failed: {exc}", file=sys.stderr)
            return EXIT_FAILED
        try:
            code = _execute(store, flow_name, flow_class, steps, request, where, started)
        finally:
            store_logs(store, key, request.attempt, logs)
        return code


def _execute(store, flow_name, flow_class, steps, request, where, started) -> int:
    context = TaskContext(store, flow_name, request, steps, flow_class)
    if not request.iteration and (request.step == "start" or not steps[request.step].parents):
        try:
            context.parameter_values = convert_parameters(
                flow_class,
                request.params,
                lambda sha: ArtifactSource(store, flow_name, {"included file": sha}).load("included file"),
            )
        except ValueError as exc:
            print(f"flowc.runtime: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    elif request.params:
        print(
            f"flowc.runtime: note: --param is read by the start step only; {request.step} ignores it", file=sys.stderr
        )
    try:
        return execute_step(context, where, started)
    except (TaskFailure, ArtifactError, DatastoreError) as exc:
        code = (
            EXIT_USAGE
            if isinstance(exc, (branching.BranchError, UserDecoratorRefused))
            else EXIT_CORRUPT
            if isinstance(exc, CorruptBlob)
            else EXIT_FAILED
        )
        # Outside the step's body (reading inputs, storing artifacts, the datastore): recorded like a
        # failed attempt, so `flowc show` and Task.exception say what happened instead of `running`.
        print(f"flowc: {where} failed: {exc}", file=sys.stderr)
        try:
            record_attempt(
                store,
                task_key(flow_name, request.run_id, request.step, request.stored_task_id),
                request.attempt,
                "failed",
                started,
                exc,
                not_retried=code if code in NOT_RETRIED else None,
            )
        except DatastoreError:
            pass  # the datastore is what failed: the one line above is all that can be said
        return code


def reused_from_origin(store, flow_name: str, steps: dict, request: TaskRequest) -> bool:
    """A remote resume: the origin run's finished task, cloned into this run, unless its step runs again."""
    origin = request.origin
    if origin is None or request.step in rerun_steps(steps, origin.from_step):
        return False
    task = (request.step, request.stored_task_id)
    return clone_task(store, flow_name, origin.run_id, request.run_id, task, lambda line: print(line, file=sys.stderr))


def earlier_final_failure(store, key: str, attempt: int) -> tuple[int, str] | None:
    """(exit code, cause) when an earlier attempt failed in a way no retry can change, else None.

    An orchestrator that retries every non-zero exit (Argo without retryStrategy expressions) starts more
    attempts anyway; each exits with the same code and cause without running the step again (and writes no
    record of its own, so the task's attempts stay the ones that ran)."""
    for earlier in range(attempt - 1, -1, -1):
        text = store.read_text(layout.attempt_log_key(key, earlier, layout.ATTEMPT_RECORD))
        try:
            record = json.loads(text) if text else None
        except ValueError:  # a torn record says nothing either way
            continue
        if isinstance(record, dict) and record.get("not_retried") in NOT_RETRIED:
            return record["not_retried"], f"attempt {earlier} failed with {record.get('error')}, which no retry changes"
    return None


def already_done(store, key: str, request: TaskRequest, where: str) -> int:
    """A restarted task (SkyPilot recovery, an orchestrator retry after the commit) exits at once.

    DONE is written last, so its presence means meta.json and the artifacts are
    complete; running again would only replace them.  The split list is handed
    to the orchestrator again, as the first run did.  Logs are left untouched:
    they belong to the attempt that did the work.
    """
    if request.foreach_out:
        text = store.read_text(f"{key}/{layout.FOREACH}")
        if text is not None:
            folder = os.path.dirname(os.path.abspath(request.foreach_out))
            os.makedirs(folder, exist_ok=True)
            with open(request.foreach_out, "w", encoding="utf-8") as f:
                f.write(text)
    if request.branch_out:
        text = store.read_text(f"{key}/{layout.BRANCH}")
        if text is not None:
            branching.write_branch_out(request.branch_out, json.loads(text)[layout.BRANCH_NEXT])
    print(f"flowc.runtime: note: {where}: already done in the datastore; nothing to do", file=sys.__stderr__)
    return EXIT_OK


def _iteration_problem(info, request: TaskRequest) -> str | None:
    """Why --iteration does not fit the step: given to a step that is not recursive, or past @recursion's max."""
    if not info.is_recursive:
        if request.iteration is not None:
            return f"--iteration is for a recursive step; step '{info.name}' is not recursive"
        return None
    if request.iteration is None:
        request.iteration = 0  # a recursive step's first iteration, when the orchestrator passes none
    if request.iteration >= info.recursion_max:
        return (
            f"recursive step '{info.name}': iteration {request.iteration} is past @recursion(max={info.recursion_max}) "
            f"(iterations 0 to {info.recursion_max - 1})"
        )
    return None


def store_logs(store, key: str, attempt: int, logs) -> None:
    try:
        store.write_text(layout.attempt_log_key(key, attempt, layout.STDOUT), logs.stdout())
        store.write_text(layout.attempt_log_key(key, attempt, layout.STDERR), logs.stderr())
    except Exception as exc:  # noqa: BLE001 - losing logs must not fail the task
        print(f"flowc.runtime: warning: could not save logs: {exc}", file=sys.__stderr__)
