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
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

from flowc.local.progress import Progress
from flowc.runtime.datastore import DatastoreError, open_datastore, task_key

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
LINE_LIMIT = 64 * 1024  # a longer printed line is echoed in pieces


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


@dataclass
class TaskResult:
    step: str
    task_id: str
    code: int
    attempts: int
    seconds: float
    stderr_tail: str = ""
    cloned: bool = False


def run_record_key(flow_name: str, run_id: str) -> str:
    return f"{flow_name}/runs/{run_id}/run.json"


class LocalRun:
    def __init__(self, request: RunRequest):
        self.r = request
        self.flow = request.flow
        self.store = open_datastore(request.datastore)
        self.done: set[tuple[str, str]] = set()
        self.failed: TaskResult | None = None
        self.usage_error = False
        self.pending_joins: set[tuple[str, str]] = set()
        self.scheduled: set[tuple[str, str]] = set()
        self.cwd = os.path.dirname(os.path.abspath(request.flow_path))
        self.sky = None
        if request.skypilot is not None:
            from flowc.local.skypilot import SkyPilotSteps

            self.sky = SkyPilotSteps(self.flow, request.flow_path, self.store.root, request.skypilot)

    # -- the run record --------------------------------------------------------

    def write_record(self, status: str, started: float) -> None:
        record = {"flow": self.flow.name, "flow_file": os.path.abspath(self.r.flow_path), "run_id": self.r.run_id,
                  "params": self.r.params, "status": status, "started_at": started,
                  "finished_at": None if status == "running" else time.time(),
                  "origin_run_id": self.r.origin_run_id, "datastore": self.store.root}
        self.store.write_text(run_record_key(self.flow.name, self.r.run_id), json.dumps(record, indent=1))

    # -- argv --------------------------------------------------------------------

    def argv(self, step, task_id: str, attempt: int) -> list[str]:
        from flowc.compiler import command
        from flowc.compiler.options import Options

        def fill(p):
            if p.kind == command.RUN_ID:
                return self.r.run_id
            if p.kind == command.TASK_ID:
                return task_id
            if p.kind == command.ATTEMPT:
                return str(attempt)
            if p.kind == command.PARAM:
                return str(self.r.params.get(p.name, ""))
            raise ValueError(f"unknown placeholder {p}")

        if self.sky is not None and self.sky.launches(step):
            return self.sky.argv(step, fill)  # python -m flowc.runtime.skypilot_launch ...
        options = Options(python=sys.executable, datastore=self.store.root)
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
        for attempt in range(attempts):
            code, stderr_lines = self.run_process(self.argv(step, task_id, attempt), f"[{step_name}/{task_id}] ")
            if code == 0 and not self.task_done(step_name, task_id):
                # The task exited 0 without committing (os._exit(0) in the step, a killed writer):
                # a failure, never a success that the next step would trip over.
                code = EXIT_FAILED
                stderr_lines.append(f"flowc: step '{step_name}' task {task_id} exited 0 without marking itself "
                                    "done in the datastore (did the step end the process?)")
            if code == 0:
                return TaskResult(step_name, task_id, 0, attempt + 1, time.time() - started)
            tail = "\n".join(list(stderr_lines)[-6:]).strip()
            if code == EXIT_USAGE or attempt == attempts - 1:
                return TaskResult(step_name, task_id, code, attempt + 1, time.time() - started, tail)
            self.r.echo(f"[{step_name}/{task_id}] attempt {attempt} failed; retrying"
                        + (f" in {delay}s" if delay else ""))
            time.sleep(delay)
        raise AssertionError("unreachable")

    def task_done(self, step_name: str, task_id: str) -> bool:
        try:
            return self.store.exists(f"{task_key(self.flow.name, self.r.run_id, step_name, task_id)}/DONE")
        except DatastoreError:
            return False

    def run_process(self, argv: list[str], prefix: str) -> tuple[int, collections.deque]:
        """Run one task process; echo its stdout line by line, keep the last lines of its stderr.

        Memory stays bounded whatever the task prints (lines are cut at 64 KiB,
        only the last 200 stderr lines are kept); its full output is in its saved logs.
        """
        process = subprocess.Popen(argv, cwd=self.cwd, env=self.env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        tail: collections.deque = collections.deque(maxlen=200)

        def drain_stderr():
            for raw in iter(lambda: process.stderr.readline(LINE_LIMIT), b""):
                tail.append(raw.decode("utf-8", "replace").rstrip("\n"))

        reader = threading.Thread(target=drain_stderr, daemon=True)
        reader.start()
        for raw in iter(lambda: process.stdout.readline(LINE_LIMIT), b""):
            if self.r.show_output:
                self.r.echo(prefix + raw.decode("utf-8", "replace").rstrip("\n"))
        code = process.wait()
        reader.join()
        process.stdout.close()
        process.stderr.close()
        return code, tail

    # -- cloning on resume ---------------------------------------------------------

    def try_clone(self, step_name: str, task_id: str) -> bool:
        origin = self.r.origin_run_id
        if origin is None or step_name in self.r.rerun_steps:
            return False
        source = task_key(self.flow.name, origin, step_name, task_id)
        if not self.store.exists(f"{source}/DONE"):
            return False
        meta = json.loads(self.store.read_text(f"{source}/meta.json"))
        meta.update(run_id=self.r.run_id, origin_run_id=origin)
        target = task_key(self.flow.name, self.r.run_id, step_name, task_id)
        split = self.store.read_text(f"{source}/foreach.json")
        if split is not None:
            self.store.write_text(f"{target}/foreach.json", split)
        self.store.write_text(f"{target}/meta.json", json.dumps(meta, indent=1, sort_keys=True))
        self.store.write_text(f"{target}/DONE", "")
        return True

    # -- scheduling ------------------------------------------------------------------

    def successors(self, step_name: str, task_id: str) -> list[tuple[str, str]]:
        """Tasks that may start now that (step_name, task_id) is done."""
        step = self.flow.step(step_name)
        found = []
        if step.foreach_var is not None:
            split = json.loads(self.store.read_text(f"{task_key(self.flow.name, self.r.run_id, step_name, task_id)}"
                                                    "/foreach.json"))
            found += [(step.next[0], child) for child in split]
        for name in step.next:
            nxt = self.flow.step(name)
            if step.foreach_var is not None:
                continue
            if nxt.is_join:
                continue
            found.append((name, task_id))
        if step.matching_join:
            self.pending_joins.add((step.matching_join, task_id))
        return found

    def join_ready(self, join_name: str, task_id: str) -> bool:
        join = self.flow.step(join_name)
        closed = self.flow.step(join.closes)
        if closed.foreach_var is not None:
            text = self.store.read_text(task_key(self.flow.name, self.r.run_id, closed.name, task_id, "foreach.json"))
            children = json.loads(text)
            return all((p, c) in self.done for p in join.parents for c in children)
        return all((p, task_id) in self.done for p in join.parents)

    def ready_joins(self) -> list[tuple[str, str]]:
        ready = [j for j in sorted(self.pending_joins) if self.join_ready(*j)]
        self.pending_joins.difference_update(ready)
        return ready

    def execute(self) -> int:
        try:
            return self._execute()
        except DatastoreError as exc:
            self.r.echo(f"flowc: run {self.r.run_id} failed: {exc}")
            return EXIT_FAILED

    def _execute(self) -> int:
        started = time.time()
        self.write_record("running", started)
        if self.sky is not None:
            self.sky.upload_package(self.r.echo)
        progress = Progress(self.r.echo, len(self.flow.steps))
        queue: list[tuple[str, str]] = [("start", "0")]
        running = {}
        with ThreadPoolExecutor(max_workers=max(1, self.r.max_workers)) as pool:
            while queue or running:
                while queue and self.failed is None:
                    item = queue.pop(0)
                    if item in self.scheduled:
                        continue
                    self.scheduled.add(item)
                    if self.try_clone(*item):
                        progress.task_done(TaskResult(*item, 0, 0, 0.0, cloned=True))
                        self.done.add(item)
                        queue += self.successors(*item)
                        queue += self.ready_joins()
                        continue
                    progress.task_started(*item)
                    running[pool.submit(self.run_task, *item)] = item
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    item = running.pop(future)
                    result = future.result()
                    progress.task_done(result)
                    if result.code != 0:
                        if self.failed is None:
                            self.failed = result
                            self.usage_error = result.code == EXIT_USAGE
                        continue
                    self.done.add(item)
                    queue += self.successors(*item)
                    queue += self.ready_joins()
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
            self.r.echo(f"flowc: run {self.r.run_id} failed: step '{f.step}' task {f.task_id} "
                        f"(after {f.attempts} attempt{'s' if f.attempts != 1 else ''}):")
            for line in (f.stderr_tail or "(no error output)").splitlines():
                self.r.echo(f"    {line}")
            self.r.echo(f"flowc: fix it, then `flowc resume {self.flow.name}/{self.r.run_id}` reuses finished tasks")
            return EXIT_USAGE if self.usage_error else EXIT_FAILED
        if status != "ok":
            self.r.echo(f"flowc: run {self.r.run_id} stopped before 'end'")
            return EXIT_FAILED
        return EXIT_OK
