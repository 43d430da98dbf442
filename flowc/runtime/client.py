"""Read runs back from the datastore: `Run("Flow/RUN")["end"].task.data.x`, `Flow("Flow").latest_run`.

The datastore is the `datastore=` argument, else the one `flowc run` uses from
the current folder (flowc/contract/settings.py: FLOWC_DATASTORE, `datastore`
in [tool.flowc.local] or [tool.flowc], `.flowc/`).  Artifacts load lazily.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flowc.contract import layout
from flowc.contract.ids import split_iteration, task_sort_key
from flowc.contract.layout import task_key
from flowc.contract.settings import local_datastore
from flowc.runtime.artifacts import ArtifactSource
from flowc.runtime.datastore import DatastoreError, open_datastore

RUNNER_GONE = "runner gone"
UNREADABLE = "unreadable"  # the run record or a task's meta.json is not valid JSON


def _runner_gone(runner) -> bool:
    """True when the run's runner process is known to be dead (it ran on this machine and its pid is gone)."""
    if not isinstance(runner, dict) or not isinstance(runner.get("pid"), int):
        return False
    import socket  # only to compare host names of a run recorded as running

    if runner.get("host") != socket.gethostname():
        return False  # another machine's process: nothing here can tell
    try:
        os.kill(runner["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _read_json(store, key: str):
    """The JSON document at `key` (None when absent); a DatastoreError naming the file when it is not JSON."""
    try:
        text = store.read_text(key)
        return None if text is None else json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        reason = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise DatastoreError(f"{store.url(key)} is corrupt (not JSON: {reason})") from None


def _store(datastore: str | None):
    return open_datastore(datastore or local_datastore(Path.cwd()))


class Flow:
    """All runs of one flow in a datastore."""

    def __init__(self, name: str, datastore: str | None = None):
        self.name = name
        self._store = _store(datastore)

    def runs(self) -> list["Run"]:
        """Runs with a run record, newest first."""
        found = []
        for run_id in self._store.children(layout.runs_key(self.name)):
            if self._store.exists(layout.run_record_key(self.name, run_id)):
                found.append(Run(f"{self.name}/{run_id}", store=self._store))
        return sorted(found, key=lambda r: (r.record.get("started_at") or 0, r.id), reverse=True)

    def __iter__(self):
        return iter(self.runs())

    def __getitem__(self, run_id: str) -> "Run":
        return Run(f"{self.name}/{run_id}", store=self._store)

    def __contains__(self, run_id: str) -> bool:
        """`"12" in Flow("F")`, as Metaflow's client documents."""
        try:
            self[run_id]
        except KeyError:
            return False
        return True

    @property
    def id(self) -> str:
        return self.name

    @property
    def latest_run(self) -> "Run | None":
        runs = self.runs()
        return runs[0] if runs else None

    @property
    def latest_successful_run(self) -> "Run | None":
        return next((r for r in self.runs() if r.successful), None)

    def __repr__(self):
        return f"Flow({self.name!r})"


class Run:
    """One run: its steps, their tasks, and the artifacts of the `end` task as `run.data`."""

    def __init__(self, pathspec: str, datastore: str | None = None, store=None):
        flow, _, run_id = pathspec.partition("/")
        if not flow or not run_id or "/" in run_id:
            raise ValueError(f"expected 'FlowName/RUN_ID', got {pathspec!r}")
        self.flow_name, self.id = flow, run_id
        self._store = store or _store(datastore)
        self.problem = None  # why the run record cannot be read; one bad run must not hide the others
        try:
            record = _read_json(self._store, layout.run_record_key(flow, run_id))
        except DatastoreError as exc:
            record, self.problem = {}, str(exc)
        if record is None and not self._store.children(layout.run_key(flow, run_id)):
            raise KeyError(f"run {pathspec} not found in {self._store.root}")
        self.record = record if isinstance(record, dict) else {}

    @property
    def pathspec(self) -> str:
        return f"{self.flow_name}/{self.id}"

    @property
    def status(self) -> str:
        """ok, failed, interrupted, running, `runner gone` (recorded as running, but its runner died), unreadable."""
        if self.problem:
            return UNREADABLE
        status = self.record.get("status", "unknown")
        if status == "running" and _runner_gone(self.record.get("runner")):
            return RUNNER_GONE
        return status

    @property
    def successful(self) -> bool:
        return self.status == "ok"

    @property
    def finished(self) -> bool:
        return self.status in ("ok", "failed", "interrupted", RUNNER_GONE)

    def steps(self) -> list["Step"]:
        """Steps that have tasks, in the order they started."""
        names = [n for n in self._store.children(layout.run_key(self.flow_name, self.id)) if n != layout.RUN_RECORD]
        steps = [Step(self, n) for n in names]
        return sorted(steps, key=lambda s: (s._first_start(), s.name))

    def __iter__(self):
        return iter(self.steps())

    def __getitem__(self, step: str) -> "Step":
        if not self._store.children(layout.run_key(self.flow_name, self.id, step)):
            raise KeyError(f"run {self.pathspec} has no step {step!r}")
        return Step(self, step)

    @property
    def data(self):
        """The artifacts of the `end` task."""
        return self["end"].task.data

    def __repr__(self):
        return f"Run({self.pathspec!r})"


class Step:
    def __init__(self, run: Run, name: str):
        self.run, self.name = run, name

    def tasks(self) -> list["Task"]:
        ids = self.run._store.children(layout.run_key(self.run.flow_name, self.run.id, self.name))
        return [Task(self, t) for t in sorted(ids, key=task_sort_key)]

    def __iter__(self):
        return iter(self.tasks())

    def __getitem__(self, task_id: str) -> "Task":
        return Task(self, str(task_id))

    @property
    def task(self) -> "Task":
        """The step's task (the first one, for a step inside a foreach)."""
        tasks = self.tasks()
        if not tasks:
            raise KeyError(f"step {self.name} has no tasks")
        return tasks[0]

    def _first_start(self) -> float:
        starts = [t.meta["started_at"] for t in self.tasks() if t.meta]
        return min(starts) if starts else float("inf")

    def __repr__(self):
        return f"Step({self.run.pathspec}/{self.name})"


class Task:
    def __init__(self, step: Step, task_id: str):
        self.step, self.id = step, task_id
        run = step.run
        self._store = run._store
        self._key = task_key(run.flow_name, run.id, step.name, task_id)
        self._meta = None
        self.problem = None  # why its meta.json cannot be read

    @property
    def pathspec(self) -> str:
        return f"{self.step.run.pathspec}/{self.step.name}/{self.id}"

    @property
    def iteration(self) -> int | None:
        """A recursive step's iteration (its task id is `<task>-<iteration>`), else None."""
        return split_iteration(self.id)[1]

    @property
    def branch(self) -> dict | None:
        """A conditional step's choice, {"value": ..., "next": step}, from its branch.json; else None."""
        text = self._store.read_text(f"{self._key}/{layout.BRANCH}")
        return json.loads(text) if text is not None else None

    @property
    def finished(self) -> bool:
        return self._store.exists(f"{self._key}/{layout.DONE}")

    @property
    def meta(self) -> dict | None:
        if self._meta is None and self.problem is None and self.finished:
            try:
                self._meta = _read_json(self._store, f"{self._key}/{layout.META}")
            except DatastoreError as exc:
                self.problem = str(exc)
        return self._meta

    @property
    def successful(self) -> bool:
        return self.finished

    @property
    def status(self) -> str:
        if self.finished:
            meta = self.meta
            return UNREADABLE if meta is None else meta.get("status", "ok")
        attempts = self.attempts()
        return attempts[-1].get("status", "unknown") if attempts else "running"

    @property
    def exception(self) -> str | None:
        if self.meta:
            return self.meta.get("exception")
        if self.problem:
            return self.problem
        attempts = self.attempts()
        return attempts[-1].get("error") if attempts else None

    def attempts(self) -> list[dict]:
        """The attempt records, oldest first (one that cannot be read is left out)."""
        records = []
        folder = layout.logs_key(self._key)
        for name in self._store.children(folder):
            if name.endswith("." + layout.ATTEMPT_RECORD):
                try:
                    record = _read_json(self._store, f"{folder}/{name}")
                except DatastoreError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("attempt"), int):
                    records.append(record)
        return sorted(records, key=lambda r: r["attempt"])

    def log(self, stream: str = "stdout", attempt: int | None = None) -> str:
        if attempt is None:
            attempts = self.attempts()
            attempt = attempts[-1]["attempt"] if attempts else 0
        return self._store.read_text(layout.attempt_log_key(self._key, attempt, stream)) or ""

    @property
    def stdout(self) -> str:
        return self.log("stdout")

    @property
    def stderr(self) -> str:
        return self.log("stderr")

    @property
    def data(self) -> "Data":
        if not self.meta:
            if self.problem:
                raise DatastoreError(self.problem)
            raise KeyError(f"task {self.pathspec} has not finished: no artifacts")
        return Data(ArtifactSource(self._store, self.step.run.flow_name, self.meta["artifacts"]))

    @property
    def index(self) -> int | None:
        return int(self.id.rpartition(".")[2]) if self.meta and self.meta.get("parents") else None

    def __repr__(self):
        return f"Task({self.pathspec})"


class Data:
    """Artifacts by attribute: `task.data.x`; `'x' in data`; `data.names`."""

    def __init__(self, source: ArtifactSource):
        object.__setattr__(self, "_source", source)

    def __getattr__(self, name):
        if self._source.has(name):
            return self._source.load(name)
        raise AttributeError(f"no artifact {name!r} (artifacts: {', '.join(self.names)})")

    def __contains__(self, name) -> bool:
        return self._source.has(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._source.refs)
