"""Metaflow's `Config` (2.13+), resolved at compile time: config files are data, read here, never run.

`cfg = Config("cfg", default="cfg.json")` in a flow class: the compiler reads the
file (or the one given with `--config cfg PATH`, or `default_value=`) as JSON, TOML
(`parser="tomllib.loads"`, stdlib) or YAML (`parser="yaml.safe_load"`, pyyaml), and
the value is then known like a constant: `@resources(cpu=cfg.train.cpu)`,
`@resources(**cfg.resources)`, `@schedule(cron=config_expr("cfg.cron"))` resolve to
plain values in the IR, so every target shows them.  The values travel to the tasks
with the compiled command (flowc/compiler/command.py), which hands them to
flowc/api/configs.py: a task sees what the compiler saw.

A `parser=` that is a function would have to run user code: refused at its line.
"""

from __future__ import annotations

import ast
import json
import os
from typing import Any

from flowc.compiler.ir import FlowConfig
from flowc.compiler.parameters import MISSING
from flowc.compiler.static_scope import NotLiteral
from flowc.contract.decorators import did_you_mean

CONFIG_ARGS = ("name", "default", "default_value", "help", "required", "parser", "show_default", "plain")
# parser= strings flowc reads as data formats; Metaflow documents "tomllib.loads" and "yaml.safe_load"
PARSERS = {
    "json.loads": "json",
    "tomllib.loads": "toml",
    "tomli.loads": "toml",
    "toml.loads": "toml",
    "yaml.safe_load": "yaml",
}
MAX_CONFIG_BYTES = 1024 * 1024  # a config is settings, not data; bounds what every command carries
HOW_TO_VALUE = "give a file path (default=) or a dict (default_value=)"
HOW_TO = 'name a data format: parser="tomllib.loads" or parser="yaml.safe_load" (JSON needs none)'


def add_class_configs(frontend, cls: ast.ClassDef, configs: dict) -> None:
    """Resolve the class's Configs into `configs` and the class's constants: its decorators and
    parameters may read them (`cfg.x`), and `config_expr` sees every config of the flow so far."""
    found, failed = read_configs(frontend, cls, frontend.config_files)
    frontend.failed_configs |= failed
    constants = frontend.constants
    constants.failed_configs = set(frontend.failed_configs)
    for config in found:
        configs[config.name] = config
        constants.configs[config.attribute] = config.value
    constants.config_names = {c.name: c.value for c in configs.values()}
    names = frontend.names
    constants.config_expr_names = {local for local, real in names.direct.items() if real == "config_expr"} | (
        {"config_expr"} if names.star else set()
    )


def refuse_unknown_config_files(frontend, leaf: ast.ClassDef, configs: dict) -> None:
    """`--config NAME PATH` naming no Config of the flow: an error at the flow class."""
    for name in sorted(set(frontend.config_files) - set(configs) - frontend.failed_configs):
        frontend.error(
            leaf, f"--config {name}: {leaf.name} declares no Config named '{name}'" + did_you_mean(name, configs)
        )


def read_configs(frontend, cls: ast.ClassDef, overrides: dict[str, str]) -> tuple[list[FlowConfig], set[str]]:
    """The resolved Configs declared in `cls`'s body, and the attributes and names of those that failed
    (reported on `frontend`: their uses are not reported again)."""
    found, failed = [], set()
    for node in cls.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or not isinstance(node.value, ast.Call):
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        if frontend.names.resolve(node.value.func) != "Config" or not isinstance(target, ast.Name):
            continue
        config = _read_config(frontend, target.id, node.value, overrides)
        if config is not None:
            found.append(config)
        else:
            failed.add(target.id)
            name = node.value.args[0] if node.value.args else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                failed.add(name.value)
    return found, failed


def _read_config(frontend, attribute: str, call: ast.Call, overrides: dict[str, str]) -> FlowConfig | None:
    given: dict[str, ast.expr] = {}
    for i, arg in enumerate(call.args):
        if i >= 2 or isinstance(arg, ast.Starred):
            frontend.error(arg, "Config(...) takes the name and the default file, then keyword arguments")
            return None
        given[("name", "default")[i]] = arg
    for kw in call.keywords:
        if kw.arg not in CONFIG_ARGS:
            frontend.error(kw, f"Config(...) has no argument '{kw.arg}'" + did_you_mean(kw.arg or "", CONFIG_ARGS))
            return None
        given[kw.arg] = kw.value
    if "name" not in given:
        frontend.error(call, f"Config(...) needs a name: Config('{attribute}', default='{attribute}.json')")
        return None
    parser_node = given.pop("parser", None)
    fmt = _parser_format(frontend, parser_node)
    if fmt is None:
        return None
    values = {}
    for key, node in given.items():
        if isinstance(node, ast.Lambda):
            frontend.error(
                node, f"Config argument '{key}' is a function, which flowc would have to run; {HOW_TO_VALUE}"
            )
            return None
        value = frontend.literal(node, f"argument '{key}' of Config")
        if value is MISSING:
            return None
        values[key] = value
    name = values["name"]
    if not isinstance(name, str) or not name.isidentifier():
        frontend.error(given["name"], f"config name {name!r} must be a Python identifier (config_expr names it)")
        return None
    if values.get("default") is not None and values.get("default_value") is not None:
        frontend.error(call, f"config '{name}': give default (a file) or default_value, not both (as Metaflow)")
        return None
    where = frontend.loc(call)
    try:
        value, source = _resolve(name, values, fmt, overrides, os.path.dirname(frontend.filename))
    except ConfigProblem as exc:
        frontend.error(call, f"config '{name}': {exc}")
        return None
    return FlowConfig(name=name, attribute=attribute, value=value, source=source, location=where)


def _parser_format(frontend, node: ast.expr | None) -> str | None:
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return "json"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        fmt = PARSERS.get(node.value)
        if fmt is None:
            frontend.error(
                node, f"Config parser {node.value!r} names a function flowc would have to import and run; {HOW_TO}"
            )
        return fmt
    frontend.error(
        node,
        f"Config parser={ast.unparse(node)} is a function: flowc reads configs at compile time without running "
        f"user code; {HOW_TO}, or compute the values into a JSON file",
    )
    return None


class ConfigProblem(Exception):
    pass


def _resolve(name: str, values: dict, fmt: str, overrides: dict[str, str], flow_folder: str) -> tuple[Any, str]:
    """(value, where it came from) as Metaflow decides: --config, else the default file, else default_value."""
    if name in overrides:
        path = overrides[name]
        return _parse(_read(path, f"--config {name}"), fmt, path), path
    default = values.get("default")
    default_value = values.get("default_value")
    if default is not None:
        if not isinstance(default, str):
            raise ConfigProblem(f"default must be a file path, not {default!r}; {HOW_TO_VALUE}")
        path = os.path.join(flow_folder, default)
        return _parse(_read(path, "its default file"), fmt, path), path
    if default_value is not None:
        if isinstance(default_value, str):
            return _parse(default_value, fmt, "default_value"), "default_value"
        if not isinstance(default_value, dict):
            raise ConfigProblem(f"default_value must be a dict or text, not {type(default_value).__name__}")
        return default_value, "default_value"
    if values.get("required"):
        raise ConfigProblem(f"is required and has no default: give --config {name} PATH")
    return None, "none"


def _read(path: str, what: str) -> str:
    try:
        size = os.path.getsize(path)
        if size > MAX_CONFIG_BYTES:
            raise ConfigProblem(f"{what} {path} is {size:,} bytes; flowc reads configs up to {MAX_CONFIG_BYTES:,}")
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise ConfigProblem(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigProblem(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _parse(text: str, fmt: str, source: str) -> Any:
    try:
        if fmt == "json":
            value = json.loads(text)
        elif fmt == "toml":
            import tomllib

            value = tomllib.loads(text)
        else:
            import yaml  # pyyaml (hera's dependency); only a YAML config needs it

            value = yaml.safe_load(text)
    except ImportError as exc:
        raise ConfigProblem(f"{source}: reading {fmt.upper()} needs {exc.name}, which is not installed") from None
    except Exception as exc:  # noqa: BLE001 - each parser has its own error class; all mean "not this format"
        hint = "" if fmt != "json" else ' (for TOML or YAML give parser="tomllib.loads" or "yaml.safe_load")'
        raise ConfigProblem(f"{source} is not valid {fmt.upper()}: {str(exc).splitlines()[0]}{hint}") from None
    if not isinstance(value, dict):
        raise ConfigProblem(f"{source} holds a {type(value).__name__}; a config is a mapping of keys to values")
    try:
        return json.loads(json.dumps(value, allow_nan=False))  # what a task receives: JSON data
    except (TypeError, ValueError) as exc:
        raise ConfigProblem(f"{source} holds a value that is not JSON data ({exc})") from None


# -- reading config values in decorator arguments ------------------------------------------------


def access(node: ast.AST, constants, budget: list[int], evaluate_node) -> Any:
    """The value of `cfg`, `cfg.a.b`, `cfg["a"]`, `config_expr("cfg.a")` or `config_expr("cfg").a`.

    NotLiteral when `node` is not rooted at a config (the caller then reports what it found).
    """
    keys: list[tuple[ast.AST, Any]] = []
    root = node
    while isinstance(root, (ast.Attribute, ast.Subscript)):
        key = root.attr if isinstance(root, ast.Attribute) else evaluate_node(root.slice, constants, budget)
        keys.append((root, key))
        root = root.value
    configs = getattr(constants, "configs", {})
    if isinstance(root, ast.Name) and root.id in getattr(constants, "failed_configs", ()):
        raise NotLiteral(node, f"config '{root.id}', which could not be read", reported=True)
    if isinstance(root, ast.Name) and root.id in configs and root.id not in constants:
        label, value = root.id, configs[root.id]
    elif is_config_expr(root, constants):
        label, value = _config_expr(root, constants)
    else:
        raise NotLiteral(node, _describe(node))
    for where, key in reversed(keys):
        value, label = (
            _lookup(where, value, key, label),
            f"{label}.{key}" if isinstance(key, str) else f"{label}[{key!r}]",
        )
    return value


def _describe(node: ast.AST) -> str:
    return "an attribute lookup" if isinstance(node, ast.Attribute) else "a subscript"


def _lookup(node: ast.AST, value: Any, key: Any, label: str) -> Any:
    if isinstance(value, dict) and key in value:
        return value[key]
    if isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
        return value[key]
    if isinstance(value, dict):
        keys = ", ".join(map(str, value)) or "none"
        raise NotLiteral(node, f"{label}[{key!r}]: the config has no such key (keys of {label}: {keys})")
    raise NotLiteral(node, f"{label}[{key!r}]: {label} is a {type(value).__name__}, not a mapping")


def is_config_expr(node: ast.AST, constants) -> bool:
    names = getattr(constants, "config_expr_names", ())
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in names
        and node.func.id not in constants
    )


def _config_expr(call: ast.Call, constants) -> tuple[str, Any]:
    if (
        len(call.args) != 1
        or call.keywords
        or not (isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str))
    ):
        raise NotLiteral(call, 'a config_expr(...) without one literal string, e.g. config_expr("config.a.b")')
    text = call.args[0].value
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise NotLiteral(call, f"config_expr({text!r}), which is not a Python expression") from None
    keys = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            keys.append(node.attr)
        elif isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, (str, int)):
            keys.append(node.slice.value)
        else:
            raise NotLiteral(call, f"config_expr({text!r}) with a computed key; write the keys as literals")
        node = node.value
    by_name = getattr(constants, "config_names", {})
    if not isinstance(node, ast.Name):
        raise NotLiteral(
            call,
            f"config_expr({text!r}), which flowc would have to run; write a config name and keys, "
            'e.g. config_expr("config.a.b")',
        )
    if node.id in getattr(constants, "failed_configs", ()):
        raise NotLiteral(call, f"config '{node.id}', which could not be read", reported=True)
    if node.id not in by_name:
        known = ", ".join(sorted(by_name)) or "none declared"
        raise NotLiteral(call, f"config_expr({text!r}) names no config '{node.id}' (configs: {known})")
    label, value = node.id, by_name[node.id]
    for key in reversed(keys):
        value, label = _lookup(call, value, key, label), f"{label}.{key}"
    return label, value
