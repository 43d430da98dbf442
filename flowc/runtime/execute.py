"""The body of a task: run the step with @retry/@catch/@timeout/@environment, then store everything."""

from __future__ import annotations

import json
import os
import sys
import time

from flowc.api.cards import CardCollector
from flowc.api.flowspec import Parallel, current
from flowc.contract import layout, project
from flowc.contract.command import EXIT_FAILED, EXIT_OK
from flowc.contract.ids import child_task_ids
from flowc.contract.layout import task_key
from flowc.contract.settings import env_name
from flowc.runtime.artifacts import ArtifactError, TaskFailure, dump
from flowc.runtime.branching import choose, write_branch
from flowc.runtime.card_page import render_cards, task_cards
from flowc.runtime.datastore import DatastoreError
from flowc.runtime.logs import StepTimeout, timeout_alarm
from flowc.runtime.parameters import flow_parameters
from flowc.runtime.user_decorators import apply_mutators, call_step


def _print_exc() -> None:
    import traceback  # (and textwrap): only when a step fails

    traceback.print_exc()


class StepExit(Exception):
    """The step called sys.exit(): a failure like any exception (retried, caught by @catch)."""


def timeout_seconds(settings: dict) -> float:
    spec = settings.get("timeout")
    if not spec:
        return 0
    return (
        float(spec.get("seconds", 0) or 0)
        + 60 * float(spec.get("minutes", 0) or 0)
        + 3600 * float(spec.get("hours", 0) or 0)
    )


def max_attempts_for(context, settings: dict) -> int:
    if context.request.max_attempts is not None:
        return context.request.max_attempts
    retry = settings.get("retry")
    if retry is None:
        return 1
    return int(retry.get("times", 3)) + 1


def apply_environment(settings: dict, step: str) -> None:
    for name, value in ((settings.get("environment") or {}).get("vars") or {}).items():
        os.environ[str(name)] = str(value)
    sources = (settings.get("secrets") or {}).get("sources") or []
    if sources:
        # Secrets are not fetched by the local runtime: values come from the
        # environment the task starts with (the orchestrator's secret mount, or
        # variables the user exported).  Only names are printed, never values.
        print(
            f"flowc.runtime: note: @secrets({', '.join(map(str, sources))}) on step '{step}': "
            "not fetched by flowc; the step sees only variables already in its environment",
            file=sys.stderr,
        )


def project_facts(flow_class, flow_name: str, branch: str) -> dict:
    """`current.project_name`, `branch_name`, ... for a @project flow in `branch` (the one the task was given,
    else `user.<user>`, as Metaflow's run picks it); nothing without @project."""
    decorator = getattr(flow_class, "_flow_decorators", {}).get("project")
    if not decorator or not decorator.get("name"):
        return {}
    return project.facts(decorator["name"], branch, flow_name)


# Raised inside the step's code by the runtime's own machinery (reading an input, an artifact, a split
# list): never the step's exception, so never stored by @catch nor retried as the step's failure.
RUNTIME_FAULTS = (DatastoreError, TaskFailure)


def execute_step(context, where: str, started: float) -> int:
    request, info = context.request, context.info
    func = getattr(context.flow_class, request.step)
    settings = {**request.decorators, **getattr(func, "_step_decorators", {})}
    max_attempts = max_attempts_for(context, settings)
    last_attempt = request.attempt >= max_attempts - 1
    key = task_key(context.flow, request.run_id, request.step, request.stored_task_id)

    inputs = context.build_inputs()
    flow = context.flow_class(use_cli=False)
    object.__setattr__(flow, "_flowc_task", context)
    user = project.user_from(os.environ)
    current._set(
        flow_name=context.flow,
        run_id=request.run_id,
        step_name=request.step,
        task_id=request.stored_task_id,
        retry_count=request.attempt,
        max_attempts=max_attempts,
        pathspec=f"{context.flow}/{request.run_id}/{request.step}/{request.stored_task_id}",
        origin_run_id=None,
        # Metaflow's: the user's namespace `user:<name>` and the name, never root (contract/project.py)
        namespace=f"user:{user}",
        username=user,
        parameter_names=[p.name for p in flow_parameters(context.flow_class)],
        tags=set(),  # flowc runs carry no user tags
        parallel=Parallel(main_ip="127.0.0.1", num_nodes=1, node_index=0, control_task_id=request.stored_task_id),
        card=CardCollector(task_cards(func, request.decorators), request.step),
        # the branch the task was given, else `user.<user>`, as Metaflow's run picks it
        **project_facts(context.flow_class, context.flow, request.project_branch or f"user.{user}"),
    )
    apply_environment(settings, request.step)
    # The client inside a step (`Flow(current.flow_name)[current.run_id]`, `Run(...)`) reads the run's own
    # datastore: the client's default is FLOWC_DATASTORE, so the task's environment names it.
    root = request.datastore
    os.environ[env_name("datastore")] = root if "://" in root else os.path.abspath(root)

    caught = None
    try:
        with timeout_alarm(timeout_seconds(settings), request.step):
            try:
                apply_mutators(context.flow_class, request.step, func)
                call_step(func, request.step, flow, inputs, passthrough=RUNTIME_FAULTS)
            except SystemExit as exit_:
                # A step ends by returning; sys.exit (any code, 0 included) leaves it unfinished.
                raise StepExit(f"step '{request.step}' called sys.exit({exit_.code!r}) before finishing") from None
    except (Exception, StepTimeout) as exc:  # the step's own failure
        if isinstance(exc, RUNTIME_FAULTS):
            raise  # the datastore's or the runtime's, met while the step read an artifact: no @catch, no retry here
        catch = settings.get("catch")
        if catch is None or not last_attempt:
            _print_exc()
            record_attempt(context.store, key, request.attempt, "failed", started, exc)
            retry_note = "" if last_attempt else f"; will retry ({request.attempt + 1} of {max_attempts - 1} retries)"
            print(f"flowc: {where} failed: {type(exc).__name__}: {exc}{retry_note}", file=sys.stderr)
            return EXIT_FAILED
        caught = exc
        _add_metaflow_fields(exc)
        if catch.get("print_exception", True):
            _print_exc()
        print(
            f"flowc: {where}: @catch stored {type(exc).__name__} in '{catch.get('var')}' and carries on",
            file=sys.stderr,
        )
        if catch.get("var"):
            object.__setattr__(flow, catch["var"], exc)
    else:
        catch = settings.get("catch")
        if catch and catch.get("var"):
            # Metaflow sets the variable to None on success, so the next step's `if not self.var:` works.
            object.__setattr__(flow, catch["var"], None)

    refs = dict(context.refs)
    for attribute, value in context.parameter_values.items():
        refs[attribute] = context.store.put_blob(context.flow, dump(attribute, request.step, value))
    for name, value in list(vars(flow).items()):
        if name.startswith("_"):
            continue
        data = dump(
            name, request.step, _picklable_exception(value) if caught is not None and value is caught else value
        )
        refs[name] = context.store.put_blob(context.flow, data)

    foreach = branch = None
    if info.is_foreach:
        foreach = _write_split(context, flow, key, request, refs)
    if info.is_switch:
        # Checked after the artifacts are stored, so `flowc resume` can reuse their blobs; before DONE, so a
        # choice outside the map never counts as a finished task.
        branch = choose(flow, info, request.iteration)
        write_branch(context.store, key, branch, request.branch_out)

    meta = {
        "flowc_meta_version": 1,
        "flow": context.flow,
        "run_id": request.run_id,
        "step": request.step,
        "task_id": request.stored_task_id,
        "iteration": request.iteration,
        "attempt": request.attempt,
        "max_attempts": max_attempts,
        "parents": [{"step": s, "task_id": t} for s, t in context.parents],
        "next": list(info.next),
        "foreach": foreach,
        "branch": branch,
        "artifacts": dict(sorted(refs.items())),
        "status": "caught" if caught is not None else "ok",
        "exception": None if caught is None else f"{type(caught).__name__}: {caught}",
        "started_at": started,
        "finished_at": time.time(),
        "package": request.package,
    }
    record_attempt(context.store, key, request.attempt, meta["status"], started, caught)
    render_cards(context, flow, meta, current.card, key)  # before DONE: a finished task has its cards
    context.store.write_text(f"{key}/{layout.META}", json.dumps(meta, indent=1, sort_keys=True))
    context.store.write_text(f"{key}/{layout.DONE}", "")
    return EXIT_OK


def _write_split(context, flow, key, request, refs: dict) -> dict:
    """Write the split list; return meta.json's `foreach` entry, which names the items in their one order.

    Children index that stored list, never the artifact itself: a set, a dict
    view or anything else without a fixed order would be iterated in each
    child's own hash order, skipping some items and repeating others.
    """
    var = context.info.foreach_var
    try:
        items = getattr(flow, var)
    except AttributeError:
        raise ArtifactError(f"foreach step '{request.step}' did not set its foreach artifact '{var}'") from None
    if not hasattr(items, "__iter__") or not hasattr(items, "__len__"):
        raise ArtifactError(
            f"foreach artifact '{var}' of step '{request.step}' is a {type(items).__name__}, "
            "which cannot be listed once: give a list (or tuple, set, dict, range)"
        )
    ordered = list(items)
    count = len(ordered)
    if type(items) is list and var in refs:
        items_ref = refs[var]
    else:
        items_ref = context.store.put_blob(context.flow, dump(f"{var} (as a list)", request.step, ordered))
    children = child_task_ids(context.info.foreach_depth, request.task_id, count)
    text = json.dumps(children)
    context.store.write_text(f"{key}/{layout.FOREACH}", text)
    if request.foreach_out:
        folder = os.path.dirname(os.path.abspath(request.foreach_out))
        os.makedirs(folder, exist_ok=True)
        temporary = f"{request.foreach_out}.tmp{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, request.foreach_out)
    return {"var": var, "num_splits": count, "items": items_ref}


def record_attempt(
    store, key: str, attempt: int, status: str, started: float, exc, not_retried: int | None = None
) -> None:
    """The attempt's record (logs/attempt-N.json): what `flowc show` and Task.attempts() read.

    `not_retried` is the exit code (in NOT_RETRIED) of a failure no retry can change: a later attempt that an
    orchestrator starts anyway (Argo's retryStrategy cannot look at exit codes without expressions) reads it
    and exits with it at once."""
    record = {
        "attempt": attempt,
        "status": status,
        "started_at": started,
        "finished_at": time.time(),
        "error": None if exc is None else f"{type(exc).__name__}: {exc}",
    }
    if not_retried is not None:
        record["not_retried"] = not_retried
    store.write_text(layout.attempt_log_key(key, attempt, layout.ATTEMPT_RECORD), json.dumps(record, sort_keys=True))


def _add_metaflow_fields(exc) -> None:
    """The fields of Metaflow's MetaflowExceptionWrapper, which its @catch stores: `.type`
    ("module.Name"), `.exception` (the message) and `.stacktrace`, so `self.err.type` reads the same."""
    import traceback

    try:
        exc.type = f"{type(exc).__module__}.{type(exc).__name__}"
        exc.exception = str(exc)
        exc.stacktrace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except (AttributeError, TypeError):
        pass  # an exception type that takes no attributes keeps its own fields


def _picklable_exception(exc):
    """The exception itself when it pickles, else a plain one with the same type name and message."""
    import pickle

    try:
        pickle.dumps(exc, protocol=5)
        exc.__traceback__ = None
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")
