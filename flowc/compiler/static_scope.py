"""What a static evaluation works with: the names it knows, and why it stops.

Apart from flowc/compiler/literals.py so that the calls it can follow
(flowc/compiler/static_calls.py) share them without importing the evaluator.
"""

from __future__ import annotations

import ast


class Constants(dict):
    """Names with known values, and for names that are not, why (shown in the error)."""

    def __init__(self, *args, unresolved: dict[str, str] | None = None):
        super().__init__(*args)
        self.unresolved: dict[str, str] = dict(unresolved or {})
        inherited = args[0] if args else None
        self.os_names: set[str] = set(getattr(inherited, "os_names", ()))  # names bound by `import os`
        self.platform_names: set[str] = set(getattr(inherited, "platform_names", ()))  # by `import platform`
        # module-level functions made only of assignments and a return (Metaflow's `script_path`)
        self.functions: dict[str, ast.FunctionDef] = dict(getattr(inherited, "functions", {}))
        # module-level classes -> their own constants: `Defaults.CPU`, the one way a subclass body reads a
        # base's constant (a class body does not see its bases' names)
        self.classes: dict[str, dict] = dict(getattr(inherited, "classes", {}))
        # Configs resolved at compile time (flowc/compiler/configs.py): by class attribute (`cfg.x`),
        # by config name (`config_expr("cfg.x")`), and the names `config_expr` is imported as.
        self.configs: dict = dict(getattr(inherited, "configs", {}))
        self.config_names: dict = dict(getattr(inherited, "config_names", {}))
        self.config_expr_names: set[str] = set(getattr(inherited, "config_expr_names", ()))
        self.failed_configs: set[str] = set(getattr(inherited, "failed_configs", ()))  # already reported


class FlowRelativePath(str):
    """A path written as `os.path.join(os.path.dirname(__file__), "x")`: "x", relative to the flow's
    folder, which is what an IncludeFile default means to flowc (flowc/local/includes.py)."""


class _FlowFolder:
    """`os.path.dirname(__file__)`: only os.path.join can use it; as a value it would be a path
    of the machine that compiles."""


FLOW_FOLDER = _FlowFolder()


class NotLiteral(Exception):
    def __init__(self, node: ast.AST, what: str, reported: bool = False):
        self.node = node
        self.reported = reported  # the cause (a config that could not be read) has its own error already
        super().__init__(what)
