"""The decorator vocabulary: one table read by the authoring API (flowc/api/decorators.py) and the compiler.

Each entry names a decorator, where it applies (a step or the flow class) and
the arguments it accepts with their types, defaults and bounds.  The API's
decorators check their arguments against it; the compiler's frontend checks
literal arguments against the same table, so the two cannot drift.

Standard library only: user flows import this inside containers.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowc.contract.command import DEFAULT_RECURSION_MAX
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # typing (3 ms) and difflib stay out of every task process's start-up
    from typing import Any

NUMBER = (int, float)


@dataclass(frozen=True)
class Arg:
    """One decorator argument: accepted Python types, default, lower bound."""

    name: str
    types: tuple
    default: Any = None
    minimum: float | None = None
    numeric_string: bool = False  # Metaflow accepts "4096" for memory; so do we
    choices: tuple = ()


@dataclass(frozen=True)
class DecoratorSpec:
    name: str
    level: str  # "step" or "flow"
    args: tuple[Arg, ...] = ()
    summary: str = ""
    repeatable: bool = False  # may be written more than once on a step (@card, one per card id)

    def arg(self, name: str) -> Arg | None:
        for a in self.args:
            if a.name == name:
                return a
        return None

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args)


_RESOURCE_ARGS = (
    Arg("cpu", NUMBER, None, minimum=0, numeric_string=True),
    Arg("memory", NUMBER, None, minimum=0, numeric_string=True),
    Arg("gpu", NUMBER, None, minimum=0, numeric_string=True),
    Arg("disk", NUMBER, None, minimum=0, numeric_string=True),
    Arg("shared_memory", NUMBER, None, minimum=0, numeric_string=True),
)

DECORATORS: dict[str, DecoratorSpec] = {
    spec.name: spec
    for spec in (
        DecoratorSpec("resources", "step", _RESOURCE_ARGS, "resource requests for the step"),
        DecoratorSpec(
            "batch",
            "step",
            _RESOURCE_ARGS[:3]
            + (
                Arg("queue", (str,)),
                Arg("image", (str,)),
                Arg("iam_role", (str,)),
                Arg("execution_role", (str,)),
                Arg("shared_memory", NUMBER, None, minimum=0, numeric_string=True),
                Arg("max_swap", NUMBER, None, minimum=0),
                Arg("swappiness", NUMBER, None, minimum=0),
                Arg("use_tmpfs", (bool,), False),
                Arg("tmpfs_size", NUMBER, None, minimum=0),
                Arg("aws_batch_tags", (dict,)),
            ),
            "run the step as an AWS Batch job",
        ),
        DecoratorSpec(
            "kubernetes",
            "step",
            _RESOURCE_ARGS[:4]
            + (
                Arg("image", (str,)),
                Arg("image_pull_policy", (str,), None, choices=("Always", "IfNotPresent", "Never")),
                Arg("namespace", (str,)),
                Arg("service_account", (str,)),
                Arg("node_selector", (dict, str)),
                Arg("tolerations", (list,)),
                Arg("secrets", (list, str)),
                Arg("gpu_vendor", (str,)),
                Arg("labels", (dict,)),
                Arg("annotations", (dict,)),
                Arg("shared_memory", NUMBER, None, minimum=0, numeric_string=True),
            ),
            "run the step as a Kubernetes pod",
        ),
        DecoratorSpec(
            "retry",
            "step",
            (
                Arg("times", (int,), 3, minimum=0),
                Arg("minutes_between_retries", NUMBER, 2, minimum=0),
            ),
            "retry the step on failure",
        ),
        DecoratorSpec(
            "catch",
            "step",
            (Arg("var", (str,)), Arg("print_exception", (bool,), True)),
            "store the exception of the last attempt and carry on",
        ),
        DecoratorSpec(
            "timeout",
            "step",
            (
                Arg("seconds", NUMBER, 0, minimum=0),
                Arg("minutes", NUMBER, 0, minimum=0),
                Arg("hours", NUMBER, 0, minimum=0),
            ),
            "fail the step after this long",
        ),
        DecoratorSpec(
            "recursion",
            "step",
            (Arg("max", (int,), DEFAULT_RECURSION_MAX, minimum=1),),
            "at most this many iterations of a recursive step (flowc's own; the runtime counts them)",
        ),
        DecoratorSpec("environment", "step", (Arg("vars", (dict,), None),), "environment variables"),
        DecoratorSpec(
            "secrets",
            "step",
            (Arg("sources", (list,), None), Arg("role", (str,))),
            "secrets made available as environment variables, by reference",
        ),
        DecoratorSpec(
            "conda",
            "step",
            (
                Arg("packages", (dict,)),
                Arg("libraries", (dict,)),
                Arg("python", (str,)),
                Arg("disabled", (bool,), False),
            ),
            "conda packages for the step (recorded)",
        ),
        DecoratorSpec(
            "pypi",
            "step",
            (Arg("packages", (dict,)), Arg("python", (str,)), Arg("disabled", (bool,), False)),
            "PyPI packages for the step (recorded)",
        ),
        DecoratorSpec(
            "skypilot",
            "step",
            (
                Arg("cluster_name", (str,)),
                Arg("use_spot", (bool,), False),
                Arg("cloud", (str,)),
                Arg("region", (str,)),
                Arg("accelerators", (str, dict)),
                Arg("cpus", NUMBER + (str,)),
                Arg("memory", NUMBER + (str,)),
                Arg("disk_size", NUMBER, None, minimum=0),
                Arg("image_id", (str,)),
                Arg("managed", (bool,), True),
                Arg("max_restarts_on_errors", (int,), 0, minimum=0),
                Arg("autostop_minutes", (int,), None, minimum=0),
            ),
            "run the step on any cloud through SkyPilot",
        ),
        DecoratorSpec(
            "schedule",
            "flow",
            (
                Arg("cron", (str,)),
                Arg("hourly", (bool,), False),
                Arg("daily", (bool,), True),
                Arg("weekly", (bool,), False),
                Arg("timezone", (str,)),
            ),
            "run the deployed flow on a schedule",
        ),
        DecoratorSpec(
            "trigger",
            "flow",
            # Metaflow's shapes: "name", {"name": ..., "parameters": {param: field} or [name, (param, field)]}
            (Arg("event", (str, dict)), Arg("events", (list,))),
            "start the deployed flow when a named event is published",
        ),
        DecoratorSpec(
            "trigger_on_finish",
            "flow",
            # "Flow" or {"name": "Flow", "project": "p"}: the upstream deployment that must succeed
            (Arg("flow", (str, dict)), Arg("flows", (list,))),
            "start the deployed flow when another deployed flow finishes successfully",
        ),
        DecoratorSpec(
            "card",
            "step",
            (
                Arg("type", (str,), "default", choices=("default", "blank")),
                Arg("id", (str,)),
                Arg("options", (dict,)),
                Arg("timeout", NUMBER, 45, minimum=0),
                Arg("save_errors", (bool,), True),
            ),
            "an HTML report of the task, rendered by the runtime after the step (current.card)",
            repeatable=True,
        ),
        DecoratorSpec("project", "flow", (Arg("name", (str,)),), "namespace deployments by project"),
        DecoratorSpec(
            "conda_base",
            "flow",
            (
                Arg("packages", (dict,)),
                Arg("libraries", (dict,)),
                Arg("python", (str,)),
                Arg("disabled", (bool,), False),
            ),
            "conda packages for every step (recorded)",
        ),
        DecoratorSpec(
            "pypi_base",
            "flow",
            (Arg("packages", (dict,)), Arg("python", (str,)), Arg("disabled", (bool,), False)),
            "PyPI packages for every step (recorded)",
        ),
    )
}

# Metaflow decorators flowc does not implement.  A warning where ignoring the
# decorator changes nothing a target emits; an error where it would.
FOREIGN_DECORATORS: dict[str, str] = {
    "checkpoint": "warning",
    "model": "warning",
    "huggingface_hub": "warning",
    "parallel": "error",
    "pytorch_parallel": "error",
    "tensorflow": "error",
    "ray_parallel": "error",
    "exit_hook": "error",
    "airflow_s3_key_sensor": "error",
    "airflow_external_task_sensor": "error",
}


def card_id_problem(card_id) -> str | None:
    """Why `card_id` cannot name a card's page (a datastore key), or None.  Metaflow allows letters, digits, _."""
    if card_id is None:
        return None
    import re

    if not isinstance(card_id, str) or not re.fullmatch(r"[A-Za-z0-9_]+", card_id):
        return f"@card(id={card_id!r}): an id is letters, digits and '_' only (it names the card's page)"
    return None


def did_you_mean(word: str, candidates) -> str:
    """' (did you mean 'x'?)' when a close candidate exists, else ''."""
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_value(spec: DecoratorSpec, arg: Arg, value: Any) -> str | None:
    """Why `value` is not acceptable for `arg` of `spec`, or None if it is."""
    where = f"argument '{arg.name}' of @{spec.name}"
    if value is None:
        return None
    if arg.numeric_string and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return f"{where} must be a number, got {value!r}"
    if isinstance(value, bool) and bool not in arg.types:
        return f"{where} must be {_type_names(arg.types)}, got {value!r}"
    if not isinstance(value, arg.types):
        return f"{where} must be {_type_names(arg.types)}, got {value!r}"
    if arg.minimum is not None and isinstance(value, NUMBER) and value < arg.minimum:
        return f"{where} must be at least {arg.minimum:g}, got {value!r}"
    if arg.choices and value not in arg.choices:
        return f"{where} must be one of {', '.join(arg.choices)}, got {value!r}"
    return None


def _type_names(types: tuple) -> str:
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        dict: "a dict",
        list: "a list",
    }
    if set(types) >= {int, float}:
        rest = [names[t] for t in types if t not in (int, float)]
        return " or ".join(["a number"] + rest)
    return " or ".join(names[t] for t in types)
