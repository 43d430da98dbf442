"""`flowc run` / `flowc resume`: schedule the IR on local processes.

Each task is a subprocess running exactly the runtime command the targets
render (flowc.compiler.command.runtime_argv), so a local run exercises the
container code path.  Independent tasks run in parallel; new tasks are found
as tasks finish (a foreach's children come from its split list in the
datastore).  On resume, tasks finished in the origin run are cloned by
reference (their meta.json names the same content-addressed blobs).
"""

from __future__ import annotations

import collections
import json
import queue
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from flowc.contract import layout
from flowc.contract.command import EXIT_FAILED, EXIT_OK, EXIT_USAGE, NOT_RETRIED
from flowc.contract.ids import run_id_problem, split_iteration
from flowc.contract.layout import run_record_key, task_key
from flowc.local.processes import TIMED_OUT, TaskProcesses
from flowc.local.progress import Progress
from flowc.local.remote_jobs import RemoteJobs
from flowc.local.schedule import Schedule
from flowc.runtime.datastore import DatastoreError, open_datastore
from flowc.runtime.reuse import clone_task

EXIT_INTERRUPTED = 130  # as a shell reports a process ended by Ctrl-C


class RunRefused(Exception):
    """The run cannot start under its id: the id is taken (another runner has or had it) or not a valid id."""


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + os.urandom(3).hex()  # = secrets.token_hex(3)


@dataclass
class RunRequest:
    flow: object  # FlowGraph
    flow_path: str
    datastore: str
    run_id: str
    params: dict = field(default_factory=dict)
    max_workers: int = 1
    origin_run_id: str | None = None  # resume: reuse this run's finished tasks
    rerun_steps: frozenset = frozenset()  # resume --from: steps that always run again
    echo: Callable[[str], None] = print
    show_output: bool = True
    skypilot: object | None = None  # Options for the VMs: launch @skypilot steps (flowc/local/skypilot.py)
    remote: dict = field(default_factory=dict)  # backend -> Options: launch its steps as jobs (flowc/local/remote.py)
    with_decorators: tuple[str, ...] = ()  # --with, recorded so that resume runs the same flow
    project: dict = field(default_factory=dict)  # @project: Options' branch, production and user of the run


@dataclass
class TaskResult:
    step: str
    task_id: str
    code: int
    attempts: int
    seconds: float
    stderr_tail: str = ""
    cloned: bool = False


class LocalRun:
    def __init__(self, request: RunRequest):
        self.r = request
        self.flow = request.flow
        self.store = open_datastore(request.datastore)
        self.done: set[tuple[str, str]] = set()
        self.failed: TaskResult | None = None
        self.usage_error = False
        # the store is read through the run, which a benchmark's stub swaps for an in-memory one
        self.schedule = Schedule(self.flow, request.run_id, lambda key: self.store.read_text(key))
        self.scheduled: set[tuple[str, str]] = set()
        self.cwd = os.path.dirname(os.path.abspath(request.flow_path))
        self.processes = TaskProcesses(self.cwd, self.env(), request.echo, request.show_output)
        self.sky = None
        if request.skypilot is not None:
            from flowc.local.skypilot import SkyPilotSteps

            self.sky = SkyPilotSteps(self.flow, request.flow_path, self.store.root, request.skypilot)
        self.jobs = RemoteJobs(self.processes.stopping, request.echo)
        self.remote = None
        if request.remote:
            from flowc.local.remote import RemoteSteps

            self.remote = RemoteSteps(
                self.flow, request.flow_path, self.store.root, request.remote, self.jobs, request.show_output
            )

    # -- the run record --------------------------------------------------------

    def write_record(self, status: str, started: float) -> None:
        """The run record; the first one is created write-once, so two runners never share a run id."""
        record = {
            "flow": self.flow.name,
            "flow_file": os.path.abspath(self.r.flow_path),
            "run_id": self.r.run_id,
            "params": self.r.params,
            "status": status,
            "started_at": started,
            "finished_at": None if status == "running" else time.time(),
            "origin_run_id": self.r.origin_run_id,
            # What `flowc resume` needs to run the flow as this run did: the same --with, the same remote steps.
            "with_decorators": list(self.r.with_decorators),
            "launch": sorted(self.r.remote),
            "project": self.r.project,
            "datastore": self.store.root,
            "runner": {"host": socket.gethostname(), "pid": os.getpid()},
        }
        key, text = run_record_key(self.flow.name, self.r.run_id), json.dumps(record, indent=1)
        if status != "running":
            self.store.write_text(key, text)
        elif not self.store.create_text(key, text):
            raise RunRefused(
                f"run {self.flow.name}/{self.r.run_id} already exists in {self.store.root}: "
                "choose another --run-id (`flowc resume` continues a run under a new id)"
            )

    # -- argv --------------------------------------------------------------------

    def argv(self, step, task_id: str, attempt: int) -> list[str]:
        from flowc.compiler import command
        from flowc.compiler.options import Options

        base, iteration = split_iteration(task_id)  # a recursive step's task is <task id>-<iteration>

        def fill(p):
            if p.kind == command.RUN_ID:
                return self.r.run_id
            if p.kind == command.TASK_ID:
                return base
            if p.kind == command.ITERATION:
                return str(iteration or 0)
            if p.kind == command.ATTEMPT:
                return str(attempt)
            if p.kind == command.PARAM:
                return str(self.r.params.get(p.name, ""))
            if p.kind == command.ORIGIN_RUN:
                return ""  # a local resume reuses finished tasks itself, before it starts any (clone_task)
            raise ValueError(f"unknown placeholder {p}")

        if self.sky is not None and self.sky.launches(step):
            return self.sky.argv(step, fill)  # python -m flowc.runtime.skypilot_launch ...
        if self.remote is not None and self.remote.launcher(step) is not None:
            return self.remote.argv(step, fill)  # the runtime from the code package, in a Batch or Kubernetes job
        options = Options(python=sys.executable, datastore=self.store.root, **self.r.project)
        return command.render(command.runtime_argv(self.flow, step, options), fill)

    def env(self) -> dict:
        env = dict(os.environ)
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(x for x in (package_parent, env.get("PYTHONPATH")) if x)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    # -- one task ----------------------------------------------------------------

    def run_task(self, step_name: str, task_id: str) -> TaskResult:
        step = self.flow.step(step_name)
        attempts = 1 + (step.retry.times if step.retry else 0)
        delay = step.retry.delay_seconds if step.retry else 0
        started = time.time()
        if self.sky is not None and self.sky.launches(step):
            attempts = self.sky.attempts(step, attempts)
            self.r.echo(f"[{step_name}/{task_id}] launching through SkyPilot {self.sky.describe(step)}")
        # Where the task runs, decided here for every step: a job (Batch, Kubernetes) or a local process.
        launcher = self.remote.launcher(step) if self.remote is not None else None
        if launcher is not None:
            self.r.echo(f"[{step_name}/{task_id}] running {launcher.describe(step)}")
        prefix = f"[{step_name}/{task_id}] "
        for attempt in range(attempts):
            if self.processes.stopping.is_set():
                return TaskResult(step_name, task_id, EXIT_FAILED, attempt, time.time() - started, "interrupted")
            argv = self.argv(step, task_id, attempt)
            if launcher is not None:
                code, stderr_lines = launcher.run(step, task_id, argv, prefix, step.timeout_seconds)
            else:
                code, stderr_lines = self.processes.run(argv, prefix, step.timeout_seconds)
            if code == TIMED_OUT:
                code = EXIT_FAILED
                self.record_killed_attempt(step_name, task_id, attempt, started, step.timeout_seconds)
                stderr_lines.append(
                    f"flowc: step '{step_name}' task {task_id} ran past its @timeout of "
                    f"{step.timeout_seconds}s and did not stop: "
                    + ("its job was stopped" if launcher is not None else "the runner killed it")
                )
            if code == 0 and not self.task_done(step_name, task_id):
                # The task exited 0 without committing (os._exit(0) in the step, a killed writer):
                # a failure, never a success that the next step would trip over.
                code = EXIT_FAILED
                stderr_lines.append(
                    f"flowc: step '{step_name}' task {task_id} exited 0 without marking itself "
                    "done in the datastore (did the step end the process?)"
                )
            if code == 0:
                return TaskResult(step_name, task_id, 0, attempt + 1, time.time() - started)
            tail = "\n".join(list(stderr_lines)[-6:]).strip()
            if code in NOT_RETRIED or attempt == attempts - 1:
                return TaskResult(step_name, task_id, code, attempt + 1, time.time() - started, tail)
            self.r.echo(
                f"[{step_name}/{task_id}] attempt {attempt} failed; retrying" + (f" in {delay}s" if delay else "")
            )
            self.processes.stopping.wait(delay)  # a retry's delay, cut short by an interruption
        raise AssertionError("unreachable")

    def task_done(self, step_name: str, task_id: str) -> bool:
        try:
            return self.store.exists(task_key(self.flow.name, self.r.run_id, step_name, task_id, layout.DONE))
        except DatastoreError:
            return False

    def record_killed_attempt(self, step_name: str, task_id: str, attempt: int, started: float, timeout: int) -> None:
        """The attempt record the killed task could not write itself, so `flowc show` says what happened."""
        record = {
            "attempt": attempt,
            "status": "failed",
            "started_at": started,
            "finished_at": time.time(),
            "error": f"StepTimeout: killed by the runner after its @timeout of {timeout}s",
        }
        key = layout.attempt_log_key(
            task_key(self.flow.name, self.r.run_id, step_name, task_id), attempt, layout.ATTEMPT_RECORD
        )
        try:
            self.store.write_text(key, json.dumps(record, sort_keys=True))
        except DatastoreError as exc:
            self.r.echo(f"flowc: warning: could not record the killed attempt: {exc}")

    # -- cloning on resume ---------------------------------------------------------

    def try_clone(self, step_name: str, task_id: str) -> bool:
        """On resume: reuse the origin run's finished task by reference (flowc/runtime/reuse.py)."""
        origin = self.r.origin_run_id
        if origin is None or step_name in self.r.rerun_steps:
            return False
        return clone_task(self.store, self.flow.name, origin, self.r.run_id, (step_name, task_id), self.r.echo)

    def execute(self) -> int:
        """Run the flow; returns the exit code. SIGTERM stops it as Ctrl-C does (tasks killed, record kept)."""
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
        try:
            return self._execute()
        except RunRefused as exc:
            self.r.echo(f"flowc: error: {exc}")
            return EXIT_USAGE
        except DatastoreError as exc:
            self.r.echo(f"flowc: run {self.r.run_id} failed: {exc}")
            return EXIT_FAILED
        finally:
            self.processes.close()
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)

    def _execute(self) -> int:
        problem = run_id_problem(self.r.run_id)
        if problem:  # before anything is written: the id names a folder of the datastore
            raise RunRefused(problem)
        started = time.time()
        self.write_record("running", started)
        try:
            return self._schedule(started)
        except KeyboardInterrupt:
            self.processes.stop()
            self.jobs.stop()
            self.write_record("interrupted", started)
            self.r.echo(
                f"flowc: run {self.r.run_id} interrupted; its running tasks were stopped. "
                f"`flowc resume {self.flow.name}/{self.r.run_id}` reuses what finished"
            )
            return EXIT_INTERRUPTED

    def _schedule(self, started: float) -> int:
        if self.sky is not None:
            self.sky.upload_package(self.r.echo)
        if self.remote is not None:
            self.remote.upload_package(self.r.echo)
        progress = Progress(self.r.echo, [step.name for step in self.flow.steps])
        self.workers = max(1, self.r.max_workers)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            try:
                self._run_until_done(pool, progress)
            except KeyboardInterrupt:
                # Stop here, not after every queued task: no new task or attempt starts, running ones are killed.
                self.processes.stop()
                self.jobs.stop()  # terminate / delete every remote job in flight: nothing is left running
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        status = "ok" if self.failed is None and ("end", "0") in self.done else "failed"
        try:
            self.write_record(status, started)
        except DatastoreError as exc:
            if status == "ok":
                raise
            self.r.echo(f"flowc: warning: could not record the run's status: {exc}")
        progress.finish(status, time.time() - started)
        if self.failed is not None:
            f = self.failed
            self.r.echo(
                f"flowc: run {self.r.run_id} failed: step '{f.step}' task {f.task_id} "
                f"(after {f.attempts} attempt{'s' if f.attempts != 1 else ''}):"
            )
            for line in (f.stderr_tail or "(no error output)").splitlines():
                self.r.echo(f"    {line}")
            self.r.echo(f"flowc: fix it, then `flowc resume {self.flow.name}/{self.r.run_id}` reuses finished tasks")
            return EXIT_USAGE if self.usage_error else EXIT_FAILED
        if status != "ok":
            self.r.echo(f"flowc: run {self.r.run_id} stopped before 'end'")
            return EXIT_FAILED
        return EXIT_OK

    def _run_until_done(self, pool, progress) -> None:
        """Start every task whose inputs are done, until nothing runs and nothing can start.

        At most max_workers tasks are submitted at once, and each reports on one queue: the cost of
        finding what to start next does not grow with the width of a foreach.
        """
        ready = collections.deque([("start", self.schedule.first_task("start", "0"))])
        reports: queue.SimpleQueue = queue.SimpleQueue()
        running = 0
        while ready or running:
            while ready and self.failed is None and running < self.workers:
                item = ready.popleft()
                if item in self.scheduled:
                    continue
                self.scheduled.add(item)
                if self.try_clone(*item):
                    progress.task_done(TaskResult(*item, 0, 0, 0.0, cloned=True))
                    self.done.add(item)
                    ready += self.schedule.successors(*item)
                    continue
                progress.task_started(*item)
                pool.submit(self._run_and_report, item, reports)
                running += 1
            if not running:
                break
            item, result = reports.get()
            running -= 1
            if isinstance(result, BaseException):
                raise result  # the runner's own failure (a datastore error), raised where it is handled
            progress.task_done(result)
            if result.code != 0:
                if self.failed is None:
                    self.failed = result
                    self.usage_error = result.code == EXIT_USAGE
                continue
            self.done.add(item)
            ready += self.schedule.successors(*item)

    def _run_and_report(self, item: tuple[str, str], reports) -> None:
        try:
            reports.put((item, self.run_task(*item)))
        except BaseException as exc:  # noqa: BLE001 - handed to the scheduling thread, which raises it
            reports.put((item, exc))


def _interrupt(signum, frame):
    raise KeyboardInterrupt()
