"""What a compiled document means, per step, so two documents compare by meaning (`flowc diff`).

`summarize(target, document)` reads an Argo WorkflowTemplate (a dict), a Step
Functions definition (JSON text) or an Airflow DAG file (Python text, read with
`ast`, never imported) into a Summary: per step its image (Step Functions:
its job definition), resources, retries, timeout, environment, secrets,
command and every other setting, and the flow's own settings.
`differences(deployed, compiled)` lists what differs, one line each.  Nothing is left out of the comparison: what no named field covers is
compared too, and reported key by key (`nodeSelector.pool: cpu → gpu`).

Values of environment variables are never printed (a step's env may carry a
credential): only the names of those added, removed or changed.  The code
package's URL is set apart from the steps' commands, so a new package reads as
one line ("code package: abc → def"), not as every step's command changing.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from flowc.compiler.targets import step_functions_retry as retry_loop
from flowc.contract.layout import PACKAGE_SUFFIX, PACKAGES

# A code package's URL or path, as the compiler puts it into commands: ROOT/<Flow>/packages/<sha256>.tar.gz
PACKAGE_URL = re.compile(r"[^\s'\",()]*/" + re.escape(PACKAGES) + r"/([0-9a-f]{64})" + re.escape(PACKAGE_SUFFIX))
PACKAGE_PLACEHOLDER = "<code package>"
# Step fields in the order they are reported; "other" holds every setting none of them covers.
STEP_FIELDS = ("image", "job definition", "resources", "retries", "timeout", "env", "secrets", "command", "other")
# Labels the Argo Server adds to what it stores; the compiler writes none of them.
ARGO_SERVER_LABELS = "workflows.argoproj.io/"
MOST_KEYS_SHOWN = 8
MOST_CHARACTERS_SHOWN = 60


@dataclass
class Summary:
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # step name -> {field: value}
    flow: dict[str, Any] = field(default_factory=dict)  # settings outside the steps, flattened
    packages: tuple[str, ...] = ()  # sha256 of the code package(s) the commands name


def summarize(target: str, document: Any) -> Summary:
    """The Summary of one target's document: a dict for argo, the text for step-functions and airflow."""
    if target == "argo":
        return _argo(document)
    if target == "step-functions":
        return _step_functions(json.loads(document))
    if target == "airflow":
        return _airflow(document)
    raise ValueError(f"no semantic view of {target!r} documents")


def differences(deployed: Summary, compiled: Summary) -> list[str]:
    """What changes from `deployed` to `compiled`, one line each; empty when they mean the same."""
    lines = []
    for name in [s for s in compiled.steps if s not in deployed.steps]:
        lines.append(f"+ step {name}: added")
    for name in [s for s in deployed.steps if s not in compiled.steps]:
        lines.append(f"- step {name}: removed")
    for name in [s for s in compiled.steps if s in deployed.steps]:
        changed = []
        for key in STEP_FIELDS:
            changed += _field_change(key, deployed.steps[name].get(key), compiled.steps[name].get(key))
        if changed:
            lines.append(f"~ step {name}:")
            lines += [f"    {line}" for line in changed]
    if deployed.packages != compiled.packages:
        lines.append(f"~ code package: {_shas(deployed.packages)} → {_shas(compiled.packages)}")
    flow_changes = _setting_changes(deployed.flow, compiled.flow)
    if flow_changes:
        lines.append("~ flow settings:")
        lines += [f"    {line}" for line in flow_changes]
    return lines


# ---------------------------------------------------------------------------- comparing fields


def _field_change(key: str, old: Any, new: Any) -> list[str]:
    if old == new:
        return []
    if key == "env":  # names only: a value may be a credential
        old, new = old or {}, new or {}
        parts = [
            f"{verb} {', '.join(names)}"
            for verb, names in (
                ("added", sorted(set(new) - set(old))),
                ("removed", sorted(set(old) - set(new))),
                ("changed", sorted(k for k in set(old) & set(new) if old[k] != new[k])),
            )
            if names
        ]
        return ["env: " + "; ".join(parts)]
    if key == "resources":
        old, new = old or {}, new or {}
        return [
            "resources: "
            + ", ".join(
                f"{k} {_shown(old.get(k))} → {_shown(new.get(k))}"
                for k in sorted(set(old) | set(new))
                if old.get(k) != new.get(k)
            )
        ]
    if key == "command":  # the argv in full is long; the fields above name what changed in it
        return ["command: changed"]
    if key == "other":
        return _setting_changes(old or {}, new or {})
    return [f"{key}: {_shown(old)} → {_shown(new)}"]


def _setting_changes(old: dict, new: dict) -> list[str]:
    """`key: old → new` for each flattened setting that differs, at most MOST_KEYS_SHOWN lines."""
    keys = sorted(k for k in set(old) | set(new) if old.get(k, _MISSING) != new.get(k, _MISSING))
    lines = [f"{k}: {_shown(old.get(k))} → {_shown(new.get(k))}" for k in keys[:MOST_KEYS_SHOWN]]
    if len(keys) > MOST_KEYS_SHOWN:
        lines.append(f"and {len(keys) - MOST_KEYS_SHOWN} more: {', '.join(keys[MOST_KEYS_SHOWN:])}")
    return lines


_MISSING = object()


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    text = "[" + ", ".join(str(v) for v in value) + "]" if isinstance(value, (list, tuple)) else str(value)
    return text if len(text) <= MOST_CHARACTERS_SHOWN else text[: MOST_CHARACTERS_SHOWN - 1] + "…"


def _shas(shas: tuple[str, ...]) -> str:
    return ", ".join(s[:12] for s in shas) or "(none)"


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted key: leaf value}; list items that have a `name` are keyed by it, others by position.

    An empty dict or list counts as absent (taking a field out of a document can leave one behind)."""
    if isinstance(value, (dict, list)) and not value:
        return {}
    if isinstance(value, dict):
        found = {}
        for key, item in value.items():
            found.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(value, list):
        named = all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value)
        found = {}
        for index, item in enumerate(value):
            found.update(flatten(item, f"{prefix}[{item['name'] if named else index}]"))
        return found
    return {prefix: value}


def _fingerprint(value: Any) -> str:
    """Stands for an env value in comparisons without keeping the value itself."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _without_packages(document: Any) -> tuple[Any, tuple[str, ...]]:
    """The document with every code package URL replaced by a placeholder, and the packages' sha256s."""
    text = json.dumps(document, default=str)
    shas = tuple(sorted(set(PACKAGE_URL.findall(text))))
    return json.loads(PACKAGE_URL.sub(PACKAGE_PLACEHOLDER, text)), shas


# ---------------------------------------------------------------------------- argo


def _argo(template: dict) -> Summary:
    template, packages = _without_packages(template)
    metadata = template.get("metadata") or {}
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if not k.startswith(ARGO_SERVER_LABELS)}
    # Only what the compiler writes: the server adds uid, resourceVersion, timestamps and its own labels.
    kept = {k: metadata[k] for k in ("name", "namespace", "annotations") if metadata.get(k)}
    spec = dict(template.get("spec") or {})
    defaults = dict((spec.pop("templateDefaults", None) or {}).get("container") or {})
    steps, others = {}, []
    for item in spec.pop("templates", None) or []:
        if "container" not in item:
            others.append(item)
            continue
        rest = dict(item)
        name = rest.pop("name")
        container = {**defaults, **rest.pop("container")}
        retry_strategy = dict(rest.pop("retryStrategy", None) or {})
        env_from = container.pop("envFrom", None) or []
        rest["retryStrategy"], container["envFrom"] = retry_strategy, [e for e in env_from if "secretRef" not in e]
        steps[name] = {
            "image": container.pop("image", None),
            "resources": flatten(container.pop("resources", None) or {}),
            "retries": retry_strategy.pop("limit", None),
            "timeout": rest.pop("activeDeadlineSeconds", None),
            "env": {e["name"]: _fingerprint(e) for e in container.pop("env", None) or []},
            "secrets": sorted(e["secretRef"]["name"] for e in env_from if "secretRef" in e),
            "command": [*(container.pop("command", None) or []), *(container.pop("args", None) or [])],
            "other": flatten({**rest, "container": container}),
        }
    flow = {
        "apiVersion": template.get("apiVersion"),
        "kind": template.get("kind"),
        "metadata": {**kept, "labels": labels},
        "spec": {**spec, "templates": others},
    }
    return Summary(steps, flatten(flow), packages)


# ---------------------------------------------------------------------------- step functions


def _step_functions(definition: dict) -> Summary:
    definition, packages = _without_packages(definition)
    steps: dict[str, dict] = {}

    def walk(value):
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        if value.get("Type") == "Task" and "batch:submitJob" in str(value.get("Resource")):
            name = (value.get("Parameters") or {}).get("JobName") or f"(unnamed {len(steps)})"
            steps[name] = _batch_task(value)
            return f"<step {name}>"
        return {k: walk(v) for k, v in value.items()}

    rest = walk(definition)
    _fold_retry_loops(rest, steps)
    return Summary(steps, flatten(rest), packages)


# The states of a step's @retry loop (flowc/compiler/targets/step_functions_retry.py) and its Fail state: read as
# the step's retries and retry delay, not as states of their own.
_LOOP_SUFFIXES = (*retry_loop.LOOP_SUFFIXES, "-failed")


def _fold_retry_loops(value, steps: dict[str, dict]) -> None:
    if isinstance(value, list):
        for item in value:
            _fold_retry_loops(item, steps)
        return
    if not isinstance(value, dict):
        return
    states = value.get("States")
    if isinstance(states, dict):
        for name in list(states):
            step = next((s for s in steps for suffix in _LOOP_SUFFIXES if name == s + suffix), None)
            if step is None:
                continue
            state = states.pop(name)
            if name == step + retry_loop.ATTEMPTS_LEFT:
                steps[step]["retries"] = state["Choices"][0]["NumericLessThan"]
            elif name == step + retry_loop.WAIT:
                steps[step]["other"]["retry delay"] = state.get("Seconds")
    for item in value.values():
        _fold_retry_loops(item, steps)


def _batch_task(state: dict) -> dict:
    rest = json.loads(json.dumps(state))
    parameters = rest.get("Parameters") or {}
    overrides = parameters.get("ContainerOverrides") or {}
    retries = [dict(r) for r in rest.pop("Retry", None) or []]
    # States' default MaxAttempts is 3; the rest of each retrier (errors, interval, backoff) is compared as "other"
    attempts = [r.pop("MaxAttempts", 3) for r in retries]
    rest["Retry"] = retries
    return {
        # The image lives in the job definition, whose name is a hash of its content (or --job-definition).
        "job definition": parameters.pop("JobDefinition", None),
        "resources": {r["Type"]: r["Value"] for r in overrides.pop("ResourceRequirements", None) or []},
        "retries": sum(attempts) if attempts else None,
        "timeout": rest.pop("TimeoutSeconds", None),
        "env": {e["Name"]: _fingerprint(e) for e in overrides.pop("Environment", None) or []},
        "secrets": None,
        "command": overrides.pop("Command", None) or overrides.pop("Command.$", None),
        "other": flatten(rest),
    }


# ---------------------------------------------------------------------------- airflow


def _airflow(text: str) -> Summary:
    module = ast.parse(text)
    steps: dict[str, dict] = {}
    dag: dict[str, Any] = {}
    dependencies: list[str] = []
    outside = []
    for statement in module.body:
        if not isinstance(statement, ast.With):
            outside.append(statement)
            continue
        for item in statement.items:
            if isinstance(item.context_expr, ast.Call):
                dag.update(_keywords(item.context_expr))
        for inner in statement.body:
            keywords = _operator_keywords(inner)
            if keywords is not None and isinstance(keywords.get("task_id"), str):
                steps[keywords.pop("task_id")] = keywords
            else:
                dependencies.append(ast.unparse(inner))
    steps, packages = _without_packages(steps)
    steps = {name: _airflow_step(keywords) for name, keywords in steps.items()}
    flow = flatten({"dag": dag, "dependencies": sorted(dependencies)})
    # The inlined helpers and the module's constants, compared whole (they hold no per-step setting).
    flow["module code"] = hashlib.sha256(ast.dump(ast.Module(outside, [])).encode()).hexdigest()
    return Summary(steps, flow, packages)


def _airflow_step(keywords: dict) -> dict:
    return {
        "image": keywords.pop("image", None),
        "resources": keywords.pop("pod_resources", None) or {},
        "retries": keywords.pop("retries", None),
        "timeout": keywords.pop("execution_timeout", None),
        "env": {k: _fingerprint(v) for k, v in (keywords.pop("env_vars", None) or {}).items()},
        "secrets": keywords.pop("secret_names", None),
        "command": keywords.pop("argv_spec", None),
        "other": flatten(keywords),
    }


def _operator_keywords(statement: ast.stmt) -> dict | None:
    """The keywords of `step_x = Operator(...)` or `Operator.partial(...).expand(...)`, else None."""
    if not isinstance(statement, ast.Assign) or not isinstance(statement.value, ast.Call):
        return None
    found: dict[str, Any] = {}
    call: ast.expr = statement.value
    while isinstance(call, ast.Call):
        found.update(_keywords(call))
        call = call.func.value if isinstance(call.func, ast.Attribute) else call.func
    return found


def _keywords(call: ast.Call) -> dict[str, Any]:
    found = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            continue
        found[keyword.arg] = _value(keyword.value)
    return found


def _value(node: ast.expr) -> Any:
    """A literal as its value; `datetime.timedelta(seconds=N)` as `N s`; anything else as its source text."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    if (
        isinstance(node, ast.Call)
        and ast.unparse(node.func).endswith("timedelta")
        and [k.arg for k in node.keywords] == ["seconds"]
        and not node.args
    ):
        seconds = _value(node.keywords[0].value)
        return f"{seconds} s"
    return ast.unparse(node)
