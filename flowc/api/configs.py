"""`Config`, `ConfigValue` and `config_expr`: Metaflow's configs (2.13+) as a task sees them.

The compiler reads each config's file when it compiles (flowc/compiler/configs.py) and
the compiled command hands the resolved values to every task (`--config-value`), which
puts them here before it imports the flow module.  So `@timeout(seconds=config.timeout)`,
`config_expr("config.x")` and `self.config.x` give, inside the task, the very values the
compiler saw and wrote into the workflow; no task reads a config file.
"""

from __future__ import annotations

import collections.abc
from typing import Any

from flowc.api.flowspec import Parameter

# config name -> its value, set by the runtime before the flow module is imported
_VALUES: dict[str, Any] = {}


def set_config_values(values: dict[str, Any]) -> None:
    """The resolved values of this run's configs (the runtime calls this once, before importing the flow)."""
    _VALUES.clear()
    _VALUES.update(values)


class ConfigValue(collections.abc.Mapping, dict):
    """A config's (nested) value, read as `cfg.train.cpu` or `cfg["train"]["cpu"]`; immutable, as Metaflow's.

    A dict too (as Metaflow's), so `json.dumps(cfg)` and `isinstance(cfg, dict)` work.
    """

    def __init__(self, data: dict):
        self._data = {k: _construct(v) for k, v in data.items()}
        dict.__init__(self, self._data)

    def to_dict(self) -> dict:
        return _plain(self._data)

    def __getattr__(self, key: str) -> Any:
        if key == "_data":  # during unpickling, before __init__ ran
            raise AttributeError(key)
        if key in self._data:
            return self._data[key]
        raise AttributeError(f"the config has no key {key!r} (keys: {', '.join(map(str, self._data)) or 'none'})")

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def __eq__(self, other: Any) -> bool:
        return self._data == (other._data if isinstance(other, ConfigValue) else other)

    def __ne__(self, other: Any) -> bool:
        return not self == other

    __hash__ = None  # a mapping, as dict

    def keys(self):
        return self._data.keys()

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_data":
            return super().__setattr__(name, value)
        raise TypeError("ConfigValue is immutable")

    def _immutable(self, *args, **kwargs):
        raise TypeError("ConfigValue is immutable")

    __setitem__ = __delitem__ = __delattr__ = _immutable
    clear = update = setdefault = pop = popitem = _immutable

    def __repr__(self) -> str:
        return repr(self._data)

    __str__ = __repr__

    def __reduce__(self):
        return (ConfigValue, (self.to_dict(),))


def _construct(value: Any) -> Any:
    if isinstance(value, collections.abc.Mapping) and not isinstance(value, ConfigValue):
        return ConfigValue(value)
    if isinstance(value, list):
        return [_construct(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, collections.abc.Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _wrapped(value: Any) -> Any:
    return ConfigValue(value) if isinstance(value, dict) else value


class Config(Parameter):
    """A flow's config: its value is fixed when the flow is compiled (or run), from a JSON, TOML or YAML file.

    In the class body (decorator arguments) `config.x` is the value; in a step `self.config.x` is.
    """

    IS_CONFIG_PARAMETER = True

    def __init__(
        self,
        name: str,
        default: Any = None,
        default_value: Any = None,
        help: str | None = None,
        required: bool | None = None,
        parser: Any = None,
        **kwargs,
    ):
        super().__init__(name, default=default, type=str, required=bool(required), help=help)
        self.default_value = default_value
        self.parser = parser

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return _value_of(self)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("default_value", "parser", "name", "attribute"):
            raise AttributeError(name)
        if name == "value":
            return _value_of(self)
        return getattr(_value_of(self), name)

    def __getitem__(self, key: Any) -> Any:
        return _value_of(self)[key]

    def keys(self):  # `**config` in a decorator's arguments
        return _value_of(self).keys()


def _value_of(config: Config) -> Any:
    name = vars(config).get("name")
    if name not in _VALUES:
        raise AttributeError(
            f"config '{name}' has no value here: configs are resolved when flowc compiles or runs the flow"
        )
    return _wrapped(_VALUES[name])


def config_expr(expression: str) -> Any:
    """The value of an expression over the flow's configs, e.g. `config_expr("config.schedule.cron")`.

    flowc takes a config name followed by `.key` and `["key"]` lookups (what the compiler can resolve).
    """
    import ast

    node = ast.parse(expression.strip(), mode="eval").body
    keys: list = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            keys.append(node.attr)
        else:
            keys.append(ast.literal_eval(node.slice))
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in _VALUES:
        raise ValueError(f"config_expr({expression!r}): no config named {ast.unparse(node)!r}")
    value = _wrapped(_VALUES[node.id])
    for key in reversed(keys):
        value = value[key]
    return value
