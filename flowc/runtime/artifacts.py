"""Artifacts: lazy loading, storing, join inputs and merge_artifacts.

An artifact is read from the datastore only when a step touches it; the
references ({name: sha}) travel from task to task without loading anything.
"""

from __future__ import annotations

import pickle

from flowc.runtime.datastore import Datastore


class ArtifactError(Exception):
    """An artifact that cannot be stored or merged; the message names it."""


class ArtifactSource:
    """Loads artifacts of one task lazily from its references."""

    def __init__(self, store: Datastore, flow: str, refs: dict[str, str]):
        self.store = store
        self.flow = flow
        self.refs = dict(refs)
        self._cache: dict[str, object] = {}

    def has(self, name: str) -> bool:
        return name in self.refs

    def load(self, name: str):
        if name not in self._cache:
            self._cache[name] = pickle.loads(self.store.get_blob(self.flow, self.refs[name]))
        return self._cache[name]


def dump(name: str, step: str, value) -> bytes:
    try:
        return pickle.dumps(value, protocol=5)
    except Exception as exc:  # pickle raises many types (TypeError, PicklingError, AttributeError)
        raise ArtifactError(f"artifact '{name}' of step '{step}' cannot be pickled: "
                            f"{type(exc).__name__}: {exc}") from None


class InputTask:
    """One parent task as seen from a join: `inputs.a.x`, `for task in inputs: task.x`."""

    def __init__(self, step: str, task_id: str, source: ArtifactSource):
        object.__setattr__(self, "_step", step)
        object.__setattr__(self, "_task_id", task_id)
        object.__setattr__(self, "_source", source)

    def __getattr__(self, name):
        source = self.__dict__["_source"]
        if source.has(name):
            return source.load(name)
        raise AttributeError(f"input task {self._step}/{self._task_id} has no artifact '{name}'")

    def __setattr__(self, name, value):
        raise AttributeError("the inputs of a join are read-only")

    @property
    def step_name(self) -> str:
        return self._step

    @property
    def task_id(self) -> str:
        return self._task_id

    def __repr__(self):
        return f"<input {self._step}/{self._task_id}>"


class Inputs:
    """A join's inputs: iterable, indexable, and by step name for branches."""

    def __init__(self, tasks: list[InputTask]):
        self._tasks = list(tasks)

    def __iter__(self):
        return iter(self._tasks)

    def __len__(self):
        return len(self._tasks)

    def __getitem__(self, index):
        if isinstance(index, str):
            return self._by_step(index)
        return self._tasks[index]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._by_step(name)

    def _by_step(self, name: str) -> InputTask:
        for task in self._tasks:
            if task.step_name == name:
                return task
        steps = sorted({t.step_name for t in self._tasks})
        raise AttributeError(f"the join has no input from step '{name}' (inputs come from: {', '.join(steps)})")


def merge(target_refs: dict[str, str], already_set: set[str], inputs: Inputs, step: str,
          include=None, exclude=None) -> dict[str, str]:
    """References to copy onto the join: values equal in every input that has them.

    Differing values are an error naming every such artifact, unless the join
    set it itself or excluded it.  Only references move; nothing is loaded.
    """
    include = list(include or [])
    exclude = set(exclude or [])
    seen: dict[str, set[str]] = {}
    for task in inputs:
        for name, sha in task._source.refs.items():
            seen.setdefault(name, set()).add(sha)
    missing = [n for n in include if n not in seen]
    if missing:
        raise ArtifactError(f"merge_artifacts in step '{step}': include names "
                            f"{', '.join(repr(n) for n in missing)}, which no input has")
    wanted = include if include else [n for n in seen if n not in exclude]
    conflicts = []
    merged = {}
    for name in sorted(wanted):
        if name in already_set:
            continue
        shas = seen[name]
        if len(shas) > 1:
            conflicts.append(name)
            continue
        merged[name] = next(iter(shas))
    if conflicts:
        raise ArtifactError(
            f"merge_artifacts in step '{step}': artifact {', '.join(repr(n) for n in conflicts)} has different "
            "values in the inputs; set it in the join before merging, or pass exclude=[...]")
    target_refs.update(merged)
    return merged
