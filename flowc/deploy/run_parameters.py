"""What every target's `trigger` shares: the flow's parameters checked and typed, and the new run's id.

Checked before anything is sent to any orchestrator, against the flow as the
compiler reads it (no import of the flow): an unknown name, a missing required
parameter, a value that does not parse as its Parameter's type (int, float,
bool, JSON, a multiple parameter's JSON array) is a DeployError naming the
parameter.  The parsing is the runtime's own (flowc.api Parameter.convert
rules), so a value trigger accepts is a value the start step accepts.

Each target then sends what it needs: Argo and Step Functions the text the
runtime parses (`RunParameters.texts`), Airflow the typed JSON its DAG's
`Param`s validate (`RunParameters.values`).  IncludeFile parameters are read
here, where the run is launched, and stored in the run's datastore
(flowc.local.includes, as `flowc run` does): a task never opens a path.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flowc.contract.ids import run_id_problem
from flowc.deploy import DeployError, DeployRequest

TRUE_TEXTS = ("1", "true", "yes", "on")  # flowc/api/flowspec.py Parameter._convert_one
FALSE_TEXTS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class RunParameters:
    """The given parameters, checked: as text (what `--param NAME=TEXT` carries) and as typed JSON values."""

    texts: dict[str, str]
    values: dict[str, Any]


def load_run_flow(request: DeployRequest):
    """The flow's IR (parameters, name, project) as the compiler reads it; CompileError when it does not compile."""
    # the compiler only when a run is started
    from flowc.compiler import load_flow, read_source

    flow, _ = load_flow(
        read_source(request.flow_path), request.flow_path, request.with_decorators, request.config_files
    )
    return flow


def check_parameters(flow, params: dict[str, str]) -> RunParameters:
    """`params` checked against the flow's Parameters; DeployError naming the first bad one."""
    known = {p.name: p for p in flow.parameters}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise DeployError(
            f"unknown parameter(s) {', '.join(unknown)}; {flow.name} has: {', '.join(sorted(known)) or 'none'}"
        )
    missing = [p.name for p in flow.parameters if p.required and not p.has_default and p.name not in params]
    if missing:
        raise DeployError(f"required parameter(s) missing: {', '.join(missing)}; pass --param NAME=VALUE")
    values = {}
    for name, text in params.items():
        parameter = known[name]
        try:
            values[name] = typed_value(parameter, text)
        except (ValueError, TypeError) as exc:
            kind = "a JSON array" if parameter.multiple else {"json": "JSON"}.get(parameter.type, parameter.type)
            raise DeployError(f"--param {name}: expected {kind}, got {text!r} ({exc})") from None
    return RunParameters(texts=dict(params), values=values)


def typed_value(parameter, text: str) -> Any:
    """The JSON value of `text` for `parameter` (ValueError when it does not parse), as the runtime would read it."""
    if parameter.type == "file" or parameter.separator:
        return text  # a path (read by include_parameters) / text the runtime splits
    if parameter.multiple:
        items = json.loads(text) if text.lstrip().startswith("[") else [text]
        if not isinstance(items, list):
            raise ValueError("not an array")
        return [_one(parameter.type, i if isinstance(i, str) else json.dumps(i)) for i in items]
    return _one(parameter.type, text)


def _one(kind: str, text: str) -> Any:
    if kind == "json":
        return json.loads(text)
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in TRUE_TEXTS + FALSE_TEXTS:
            return lowered in TRUE_TEXTS
        raise ValueError("expects true or false")
    if kind == "int":
        return int(text)
    if kind == "float":
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")  # JSON (Airflow's conf, the run record) has no NaN
        return value
    return text


def include_parameters(request: DeployRequest, flow, checked: RunParameters) -> RunParameters:
    """IncludeFile parameters read here and stored in the datastore; both views carry the stored reference."""
    if not any(p.type == "file" for p in flow.parameters):
        return checked
    # The launcher's reader, and the datastore the tasks will read the file from.
    from flowc.local.includes import IncludeError, include_files
    from flowc.runtime.datastore import DatastoreError, open_datastore

    if request.dry_run:
        request.echo("would include the IncludeFile parameters' files in " + request.options.datastore)
        return checked
    try:
        texts = include_files(flow, request.flow_path, checked.texts, open_datastore(request.options.datastore))
    except (IncludeError, DatastoreError) as exc:
        raise DeployError(str(exc)) from None
    files = {p.name for p in flow.parameters if p.type == "file"}
    return RunParameters(texts=texts, values={**checked.values, **{k: v for k, v in texts.items() if k in files}})


def prepare_run(request: DeployRequest, params: dict[str, str]):
    """(flow, checked parameters) for a trigger: the shared check, then IncludeFile's files stored."""
    flow = load_run_flow(request)
    return flow, include_parameters(request, flow, check_parameters(flow, params))


def new_run_id(prefix: str, max_length: int) -> str:
    """`<prefix>-<UTC time>-<6 hex>`: sorts by start, unique, valid as a run id and as every orchestrator's run name.

    `prefix` is cut so the whole fits `max_length` (Argo's 63-character names, Step Functions' 80).
    """
    tail = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)
    run_id = f"{prefix[: max_length - len(tail) - 1].rstrip('-.')}-{tail}"
    problem = run_id_problem(run_id)
    if problem:  # the prefix comes from a deployment name flowc itself made safe; a bug if not
        raise DeployError(problem)
    return run_id
