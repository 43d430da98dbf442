"""What a run report shows, read from the datastore (flowc.runtime.client) and the flow's IR, as plain data.

Artifacts are loaded one at a time and only to describe them: size, type and a
repr cut to REPR_CHARS.  A blob larger than LOAD_LIMIT_BYTES is not unpickled,
and an artifact whose name looks like it holds a credential is never shown.
Environment variable values and secrets are not read at all.
"""

from __future__ import annotations

import pickle
import reprlib
from dataclasses import dataclass, field

from flowc.contract import layout
from flowc.runtime.card_page import SECRET_NAME  # one rule for the report and the default card

REPR_CHARS = 120
LOAD_LIMIT_BYTES = 8 * 1024 * 1024
MAX_TASKS = 2000  # tasks listed in full; a bigger run says how many more there are


@dataclass
class ArtifactFacts:
    name: str
    type: str
    size: int | None
    preview: str


@dataclass
class TaskFacts:
    step: str
    id: str
    status: str
    started: float | None
    finished: float | None
    attempts: list[dict]  # {attempt, status, started_at, finished_at, error}
    artifacts: list[ArtifactFacts] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)  # urls of the task's card pages
    problem: str | None = None


@dataclass
class StepFacts:
    name: str
    status: str  # ok, failed, running, caught, not run
    next: tuple[str, ...] = ()
    foreach_var: str | None = None
    resources: dict = field(default_factory=dict)
    tasks: list[TaskFacts] = field(default_factory=list)


@dataclass
class RunFacts:
    flow: str
    run_id: str
    status: str
    started: float | None
    finished: float | None
    params: dict
    steps: list[StepFacts]
    graph_known: bool  # False: the flow file was not found, steps come from the datastore only
    origin_run_id: str | None = None
    problem: str | None = None
    tasks_left_out: int = 0


def resources_of(step) -> dict:
    """What an IR step asks for, as label -> text; names of environment variables and secrets only."""
    r = step.resources
    shown = {"cpu": f"{r.cpu:g}", "memory": f"{r.memory_mib} MiB"}
    if r.gpu:
        shown["gpu"] = str(r.gpu)
    if r.disk_mib:
        shown["disk"] = f"{r.disk_mib} MiB"
    if r.shared_memory_mib:
        shown["shared memory"] = f"{r.shared_memory_mib} MiB"
    if step.compute.backend != "local":
        shown["runs on"] = step.compute.backend
    if step.retry:
        shown["retry"] = f"{step.retry.times} times"
    if step.timeout_seconds:
        shown["timeout"] = f"{step.timeout_seconds} s"
    if step.environment:
        shown["environment"] = ", ".join(name for name, _ in step.environment) + " (values not shown)"
    if step.secrets:
        shown["secrets"] = ", ".join(step.secrets)
    return shown


def describe_artifact(store, flow: str, name: str, sha: str) -> ArtifactFacts:
    """Name, type, size and a short repr of one artifact; a problem is described, never raised."""
    try:
        inband, buffers = store.get_parts(flow, sha)
    except Exception as exc:  # a missing or corrupt blob is a fact of the report, not its end
        return ArtifactFacts(name, "?", None, f"(cannot read: {exc})")
    size = len(inband) + sum(memoryview(b).nbytes for b in buffers)
    if SECRET_NAME.search(name):
        return ArtifactFacts(name, "?", size, "(not shown: the name looks like a credential)")
    if size > LOAD_LIMIT_BYTES:
        return ArtifactFacts(name, "?", size, f"(not loaded: larger than {LOAD_LIMIT_BYTES // 2**20} MiB)")
    try:
        value = pickle.loads(inband, buffers=buffers)
    except Exception as exc:  # unpickling runs the value's own code: any error, e.g. its class is not importable
        return ArtifactFacts(name, "?", size, f"(cannot load here: {type(exc).__name__}: {exc})"[:REPR_CHARS])
    kind = type(value)
    type_name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    short = reprlib.Repr()
    short.maxstring = short.maxother = short.maxlong = REPR_CHARS
    try:
        preview = short.repr(value)
    except Exception as exc:  # a user __repr__ may raise
        preview = f"(repr failed: {type(exc).__name__})"
    if len(preview) > REPR_CHARS:
        preview = preview[: REPR_CHARS - 3] + "..."
    return ArtifactFacts(name, type_name, size, preview)


def step_status(tasks: list[TaskFacts]) -> str:
    if not tasks:
        return "not run"
    statuses = {t.status for t in tasks}
    for status in ("failed", "running", "runner gone", "unreadable", "caught"):
        if status in statuses:
            return status
    return "ok" if statuses == {"ok"} else sorted(statuses)[0]


def task_facts(task, store, flow_name: str, with_artifacts: bool) -> TaskFacts:
    meta = task.meta or {}
    attempts = task.attempts()
    started = meta.get("started_at") or (attempts[0].get("started_at") if attempts else None)
    finished = meta.get("finished_at") or (attempts[-1].get("finished_at") if attempts else None)
    facts = TaskFacts(task.step.name, task.id, task.status, started, finished, attempts, problem=task.problem)
    if with_artifacts:
        for name, sha in sorted((meta.get("artifacts") or {}).items()):
            facts.artifacts.append(describe_artifact(store, flow_name, name, sha))
    cards = layout.cards_key(layout.task_key(flow_name, task.step.run.id, task.step.name, task.id))
    facts.cards = [store.url(f"{cards}/{n}") for n in store.children(cards) if n.endswith(".html")]
    return facts


def collect(run, flow=None) -> RunFacts:
    """The report's facts of a client `Run`; `flow` is the flow's IR (None when its file is not found)."""
    store = run._store
    record = run.record
    by_step = {}
    listed = 0
    left_out = 0
    for step in run.steps():
        tasks = []
        for task in step.tasks():
            if listed >= MAX_TASKS:
                left_out += 1
                continue
            listed += 1
            tasks.append(task_facts(task, store, run.flow_name, with_artifacts=True))
        by_step[step.name] = tasks
    steps = []
    if flow is not None:
        for s in flow.steps:
            tasks = by_step.pop(s.name, [])
            steps.append(StepFacts(s.name, step_status(tasks), s.next, s.foreach_var, resources_of(s), tasks))
    for name, tasks in by_step.items():  # steps the flow file no longer has (or no flow file)
        steps.append(StepFacts(name, step_status(tasks), tasks=tasks))
    return RunFacts(
        run.flow_name,
        run.id,
        run.status,
        record.get("started_at"),
        record.get("finished_at"),
        dict(record.get("params") or {}),
        steps,
        flow is not None,
        record.get("origin_run_id"),
        run.problem,
        left_out,
    )
