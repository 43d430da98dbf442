"""FlowSpec, @step, Parameter and `current`: the classes a flow file uses.

At compile time nothing here runs (the compiler reads the file with `ast`);
inside a task the runtime drives these objects.
"""

from __future__ import annotations

import json
from collections import namedtuple
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


class JSONType:
    """Parameter type for JSON values (dicts, lists): `Parameter(type=JSONType)`."""


class Parameter:
    """A flow parameter, set per run and read-only inside steps."""

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: Any = None,
        required: bool = False,
        help: str | None = None,
        multiple: bool = False,
        is_flag: bool = False,
        separator: str | None = None,
        **kwargs,
    ):
        self.name = name
        # Metaflow 2.19: "if a default is provided, the required flag is ignored" (the compiler warns)
        self.required = bool(required) and default is None
        self.multiple = bool(multiple)  # Metaflow's click option: the value is a tuple
        self.separator = separator  # Metaflow splits a str parameter's text with it
        if is_flag:
            type, default = bool, bool(default)
        if isinstance(default, str) and (type is JSONType or type in (dict, list)):
            default = json.loads(default)  # Metaflow's JSONType default given as text arrives parsed
        if self.multiple:
            default = tuple(default or ())
            type = type if type is not None else (builtin_type(default[0]) if default else str)
        self.default = default
        self.type = type if type is not None else (builtin_type(default) if default is not None else str)
        self.help = help
        self.attribute = name

    def __set_name__(self, owner, attribute):
        self.attribute = attribute

    # A data descriptor: inside a task `self.<attribute>` is the run's value, and read-only.
    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance._parameter_value(self)

    def __set__(self, instance, value):
        raise AttributeError(f"parameter '{self.name}' is read-only inside a step")

    def convert(self, text: str) -> Any:
        """Parse a command-line string into the parameter's type (a multiple one's text: a JSON array, or one item)."""
        if self.multiple:
            items = json.loads(text) if text.lstrip().startswith("[") else [text]
            if not isinstance(items, list):
                raise ValueError(f"parameter '{self.name}' takes a JSON array of values")
            return tuple(self._convert_one(i if isinstance(i, str) else json.dumps(i)) for i in items)
        value = self._convert_one(text)
        return value.split(self.separator) if self.separator and value else value

    def resolved_default(self) -> Any:
        """The default as a step sees it (a separator splits it as it splits given text)."""
        if self.separator and isinstance(self.default, str) and self.default:
            return self.default.split(self.separator)
        return self.default

    def _convert_one(self, text: str) -> Any:
        if self.type is JSONType or self.type in (dict, list):
            return json.loads(text)
        if self.type is bool:
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"parameter '{self.name}' expects true or false, got {text!r}")
        return self.type(text)


def builtin_type(value: Any):
    if isinstance(value, bool):
        return bool
    if isinstance(value, (dict, list)):
        return JSONType
    return type(value)


class IncludeFile(Parameter):
    """A parameter whose value is the text of a local file, read when the run starts."""

    def __init__(
        self,
        name: str,
        default: Any = None,
        is_text: bool = True,
        encoding: str = "utf-8",
        required: bool = False,
        help: str | None = None,
        **kwargs,
    ):
        super().__init__(name, default=default, type=str, required=required, help=help)
        self.is_text = is_text
        self.encoding = encoding


def step(func):
    """Mark a method of a FlowSpec as a step."""
    func._is_step = True
    return func


# `current.parallel` with Metaflow's fields: a flowc task is always one node (@parallel is refused)
Parallel = namedtuple("Parallel", ["main_ip", "num_nodes", "node_index", "control_task_id"])


class Current:
    """Facts about the running task: `current.run_id`, `current.step_name`, ..., and with @project
    `project_name`, `branch_name`, `is_user_branch`, `is_production`, `project_flow_name` (Metaflow's names)."""

    def __init__(self):
        self._facts: dict[str, Any] = {}

    def _set(self, **facts):
        self._facts = dict(facts)

    def get(self, key: str, default=None):
        """Metaflow's `current.get("project_name")`: the fact, or `default` where it is not set."""
        return self.__dict__.get("_facts", {}).get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__.get("_facts", {})

    def __getattr__(self, name):
        facts = self.__dict__.get("_facts", {})
        if name in facts:
            return facts[name]
        raise AttributeError(f"current.{name} is not set outside a running task")

    @property
    def is_running_flow(self) -> bool:
        return bool(self._facts)


current = Current()


class FlowSpec:
    """Base class of a flow.  Steps call `self.next(...)` to name what runs next.

    Inside a task the runtime attaches a context (`_flowc_task`) that loads
    artifacts lazily, on first read, and knows `input`, `index` and parameters.
    Every public attribute set on `self` is an artifact, stored when the step ends.
    """

    _flow_decorators: dict = {}

    def __init__(self, use_cli: bool = True):
        object.__setattr__(self, "_transition", None)
        object.__setattr__(self, "_switch", None)  # (mapping, condition) of a conditional self.next
        object.__setattr__(self, "_flowc_task", None)

    def next(self, *steps, foreach: str | None = None, num_parallel: int | None = None, condition: str | None = None):
        """Name what runs next: steps, a foreach, or a conditional `self.next({"a": self.x}, condition="route")`.

        A conditional's map is recorded as {value: step name}; the runtime picks the branch after the step."""
        if len(steps) == 1 and isinstance(steps[0], dict):
            mapping = {value: getattr(s, "__name__", str(s)) for value, s in steps[0].items()}
            object.__setattr__(self, "_transition", (tuple(dict.fromkeys(mapping.values())), None))
            object.__setattr__(self, "_switch", (mapping, condition))
            return
        names = tuple(getattr(s, "__name__", str(s)) for s in steps)
        object.__setattr__(self, "_transition", (names, foreach))

    def __getattr__(self, name):
        # Only called when normal lookup fails: an artifact not loaded yet.
        task = self.__dict__.get("_flowc_task")
        if task is not None and not name.startswith("__"):
            found, value = task.load_artifact(name)
            if found:
                object.__setattr__(self, name, value)
                return value
            raise AttributeError(
                f"step '{task.request.step}' of {type(self).__name__} has no artifact '{name}': "
                f"no earlier step set self.{name} and the step has not set it yet"
            )
        raise AttributeError(f"'{type(self).__name__}' object has no attribute or artifact '{name}'")

    def _parameter_value(self, parameter: Parameter):
        task = self.__dict__.get("_flowc_task")
        if task is None:
            return parameter.default
        return task.parameter_value(parameter)

    @property
    def input(self):
        """The item of the enclosing foreach list this task works on."""
        return self._require_task("input").foreach_input()

    @property
    def index(self):
        """The position of this task in the enclosing foreach list (None outside a foreach)."""
        return self._require_task("index").foreach_index()

    def foreach_stack(self):
        return self._require_task("foreach_stack").foreach_stack()

    def merge_artifacts(self, inputs, exclude=None, include=None):
        """Copy artifacts from a join's inputs onto self.

        An artifact with the same value in every input (or present in only
        some) is copied; one whose values differ is an error naming it, unless
        this step already set it or it is excluded.
        """
        if include and exclude:
            raise ValueError("merge_artifacts takes include or exclude, not both")
        task = self._require_task("merge_artifacts")
        task.merge_artifacts(self, inputs, include=include, exclude=exclude)

    def _require_task(self, what: str):
        task = self.__dict__.get("_flowc_task")
        if task is None:
            raise AttributeError(f"{what} is only available inside a running step")
        return task
