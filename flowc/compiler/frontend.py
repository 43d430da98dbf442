"""Read a flow file with `ast` (never importing it) into the IR.

Finds the FlowSpec subclass (from `flowc` or `metaflow`), its @step methods
and their decorators, `self.next(...)` transitions, Parameters and flow-level
decorators.  Every problem becomes a located Diagnostic; all of a file's
problems are reported together.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from flowc.compiler import literals
from flowc.compiler.configs import add_class_configs, refuse_unknown_config_files
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.flow_classes import Origin, flow_chain
from flowc.compiler.ir import DecoratorUse, Location
from flowc.compiler.mutators import flow_changing_calls
from flowc.compiler.imports import Names
from flowc.compiler.parameters import MISSING, read_parameter
from flowc.compiler.sibling_modules import imported_constants
from flowc.compiler.next_calls import LINE_BREAK, is_next_call, next_calls, read_plain_next
from flowc.compiler.switch_call import is_switch_call, read_switch
from flowc.contract.decorators import DECORATORS, FOREIGN_DECORATORS, card_id_problem, check_value, did_you_mean


@dataclass
class RawStep:
    name: str
    location: Location
    next: tuple[str, ...] = ()
    next_location: Location | None = None
    foreach_var: str | None = None
    takes_inputs: bool = False
    condition: str | None = None  # a conditional's artifact (flowc/compiler/switch_call.py)
    switch: tuple[tuple[str, str], ...] = ()  # a conditional's (value, step) pairs, in source order
    decorators: list[DecoratorUse] = field(default_factory=list)
    doc: str | None = None


@dataclass
class RawFlow:
    name: str
    location: Location
    steps: list[RawStep]
    parameters: list = field(default_factory=list)
    decorators: list[DecoratorUse] = field(default_factory=list)
    doc: str | None = None
    configs: list = field(default_factory=list)  # FlowConfig, resolved by flowc/compiler/configs.py


def decorator_name(node: ast.AST) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    return ast.unparse(target)


class Frontend:
    def __init__(self, source: str, filename: str, config_files: dict[str, str] | None = None):
        self.source = source
        self.filename = filename
        self.config_files = dict(config_files or {})  # --config NAME PATH
        self.failed_configs: set[str] = set()  # Configs reported unreadable, by attribute and name
        self.diagnostics: list[Diagnostic] = []
        self._lines: list[str] | None = None

    def loc(self, node: ast.AST | None) -> Location:
        if node is None:
            return Location(self.filename, 1, 1)
        return Location(self.filename, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1)

    def error(self, node: ast.AST | None, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.loc(node), message))

    def warn(self, node: ast.AST | None, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.loc(node), message, "warning"))

    # -- the file ------------------------------------------------------------

    def read(self) -> RawFlow | None:
        try:
            tree = ast.parse(self.source, filename=self.filename)
        except SyntaxError as exc:
            line, col = exc.lineno or 1, exc.offset or 1
            self.diagnostics.append(Diagnostic(Location(self.filename, line, max(col, 1)), f"syntax error: {exc.msg}"))
            return None
        except (ValueError, RecursionError, MemoryError) as exc:
            self.diagnostics.append(Diagnostic(Location(self.filename, 1, 1), f"cannot parse the file: {exc}"))
            return None
        self.names = Names(tree)
        for call, message in flow_changing_calls(tree, self.names):
            self.error(call, message)
        imported = imported_constants(tree.body, self.filename)
        self.module_constants = literals.module_constants(tree.body, imported)
        chain = flow_chain(self, tree, Names)
        return self._read_classes(chain) if chain else None

    # -- the class and the flow classes it inherits from ----------------------

    def _read_classes(self, chain: list[tuple[ast.ClassDef, Origin]]) -> RawFlow:
        """Each class's steps, parameters and flow decorators, a subclass's replacing its bases' by name.

        Steps come in the runtime's order (flowc/runtime/graph.py step_functions):
        by the most basic class defining the name, then the effective definition's line.
        """
        leaf = chain[-1][0]
        flow = RawFlow(leaf.name, self.loc(leaf), [], doc=ast.get_docstring(leaf))
        methods = {n.name for c, _ in chain for n in c.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        own = (self.filename, self.source, self.names, self.module_constants)
        steps: dict[str, tuple[tuple, RawStep]] = {}
        parameters: dict[str, Any] = {}
        decorators: dict[str, DecoratorUse] = {}
        first_defined: dict[str, int] = {}
        configs: dict[str, Any] = {}
        for index, (cls, origin) in enumerate(chain):
            if origin.filename != self.filename:  # a base in a sibling module: its file's names and lines
                self.filename, self.source, self.names = origin.filename, origin.source, origin.names
                imported = imported_constants(origin.tree.body, origin.filename)
                self.module_constants, self._lines = literals.module_constants(origin.tree.body, imported), None
            # A class body sees its module's names and its own, never its bases' (as in Python).
            self.constants = literals.module_constants(cls.body, self.module_constants)
            add_class_configs(self, cls, configs)
            for use in self._decorators(cls.decorator_list, "flow", f"class {cls.name}"):
                decorators.pop(use.name, None)
                decorators[use.name] = use
            own_steps, own_parameters, defined = self._read_class(cls, methods)
            for name in defined:  # any definition in a subclass replaces the base's step or parameter
                first_defined.setdefault(name, index)
                steps.pop(name, None)
                parameters.pop(name, None)
            for step_node, step in own_steps:
                line = min([step_node.lineno] + [d.lineno for d in step_node.decorator_list])
                steps[step.name] = ((first_defined[step.name], line, step.name), step)
            parameters.update(own_parameters)
            if origin.filename != own[0]:
                (self.filename, self.source, self.names, self.module_constants), self._lines = own, None
        flow.steps = [step for _key, step in sorted(steps.values(), key=lambda item: item[0])]
        flow.parameters = list(parameters.values())
        flow.decorators = list(decorators.values())
        flow.configs = list(configs.values())
        refuse_unknown_config_files(self, leaf, configs)
        return flow

    def _read_class(self, cls: ast.ClassDef, methods: set[str]) -> tuple[list, dict, set[str]]:
        """([(node, RawStep)], {attribute: Parameter}, every name the class body defines)."""
        steps: list = []
        parameters: dict[str, Any] = {}
        defined: set[str] = set()
        seen: dict[str, int] = {}
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined.add(node.name)
                is_step = any(self.names.resolve(d) == "step" for d in node.decorator_list)
                if not is_step:
                    self._check_non_step(node)
                    continue
                if node.name in seen:
                    self.error(node, f"step '{node.name}' is defined twice (first at line {seen[node.name]})")
                    continue
                seen[node.name] = node.lineno
                steps.append((node, self._read_step(node, methods)))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                value = node.value
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                if isinstance(target, ast.Name):
                    defined.add(target.id)
                if isinstance(value, ast.Call) and self.names.resolve(value.func) in ("Parameter", "IncludeFile"):
                    param = read_parameter(self, target, value)
                    if param is not None:
                        parameters[param.attribute] = param
        return steps, parameters, defined

    def _check_non_step(self, node: ast.FunctionDef) -> None:
        for d in node.decorator_list:
            if self._refuse_unimported(d):
                continue
            name = self.names.resolve(d)
            if name in DECORATORS:
                self.error(d, f"@{name} is on '{node.name}', which is not a @step")

    # -- decorators ----------------------------------------------------------

    def _refuse_unimported(self, node: ast.expr) -> bool:
        """An error for a flowc/metaflow decorator that is not imported: Python would raise NameError."""
        missing = self.names.unimported(node)
        if missing is None:
            return False
        if "." in missing:
            module = missing.split(".")[0]
            self.error(node, f"@{missing} is used but '{module}' is not imported; add `import {module}`")
        else:
            self.error(
                node,
                f"@{missing} is used but not imported; add `from metaflow import {missing}` "
                f"(or `from flowc import {missing}`)",
            )
        return True

    def _decorators(self, nodes: list[ast.expr], level: str, owner: str) -> list[DecoratorUse]:
        uses = []
        seen: set = set()  # decorator names, and ("page", name, page) of repeatable ones
        for node in nodes:
            name = self.names.resolve(node)
            if name == "step":
                if level == "flow":
                    self.error(node, f"@step is on {owner}; it belongs on methods")
                continue
            if name is None and self._refuse_unimported(node):
                continue
            if name is None:
                self.warn(
                    node,
                    f"@{decorator_name(node)} is not a flowc decorator: it runs inside the task, "
                    "but no compiled target sees it",
                )
                continue
            if name in FOREIGN_DECORATORS:
                if FOREIGN_DECORATORS[name] == "warning":
                    self.warn(node, f"@{name} is not supported by flowc and is ignored")
                else:
                    self.error(node, f"@{name} is not supported by flowc: ignoring it would change what runs")
                continue
            spec = DECORATORS.get(name)
            if spec is None:
                hint = did_you_mean(name, DECORATORS)
                if hint:  # a misspelt flowc decorator: ignoring it would drop what it says
                    self.error(node, f"unknown decorator @{name}" + hint)
                else:  # a Metaflow extension's decorator (README): it runs in the task, if anywhere
                    self.warn(
                        node,
                        f"@{name} is not a flowc decorator (a Metaflow extension's?): no compiled target sees it",
                    )
                continue
            if spec.level != level:
                where = "a step" if spec.level == "step" else "the flow class"
                self.error(node, f"@{name} belongs on {where}, not on {owner}")
                continue
            if name in seen and not spec.repeatable:
                self.error(node, f"@{name} is given twice on {owner}")
                continue
            seen.add(name)
            use = self._decorator_use(name, node)
            if use is not None and name == "card":
                # One file per card, named by its id (else its type): two that share a name would overwrite.
                args = dict(use.args)
                page = args.get("id") or args.get("type") or "default"
                problem = card_id_problem(args.get("id"))
                if problem:
                    self.error(node, problem)
                    continue
                if ("page", name, page) in seen:
                    self.error(node, f"@{name} {page!r} is given twice on {owner}: give each one its own id=")
                    continue
                seen.add(("page", name, page))
            if use is not None:
                uses.append(use)
        return uses

    def _decorator_use(self, name: str, node: ast.expr) -> DecoratorUse | None:
        spec = DECORATORS[name]
        args: dict[str, Any] = {}
        ok = True
        if isinstance(node, ast.Call):
            for arg in node.args:
                self.error(arg, f"@{name} takes keyword arguments only ({', '.join(spec.arg_names)})")
                ok = False
            for kw in node.keywords:
                given = self._keyword_values(name, kw)
                if given is None:
                    ok = False
                    continue
                for arg, value in given:
                    arg_spec = spec.arg(arg)
                    if arg_spec is None:
                        self.error(kw, f"@{name} has no argument '{arg}'" + did_you_mean(arg, spec.arg_names))
                        ok = False
                        continue
                    problem = check_value(spec, arg_spec, value)
                    if problem:
                        self.error(kw.value, problem)
                        ok = False
                        continue
                    if arg in args:
                        self.error(kw.value, f"@{name} is given argument '{arg}' twice")
                        ok = False
                        continue
                    args[arg] = value
        if not ok:
            return None
        return DecoratorUse(name, tuple(sorted(args.items())), self.loc(node))

    def _keyword_values(self, name: str, kw: ast.keyword) -> list[tuple[str, Any]] | None:
        """`memory=MEM` as one (name, value); `**RESOURCES` (a constant dict) as its items."""
        if kw.arg is not None:
            value = self.literal(kw.value, f"argument '{kw.arg}' of @{name}")
            return None if value is MISSING else [(kw.arg, value)]
        value = self.literal(kw.value, f"the ** arguments of @{name}")
        if value is MISSING:
            return None
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            self.error(kw.value, f"the ** arguments of @{name} must be a constant dict with string keys")
            return None
        return list(value.items())

    def literal(self, node: ast.AST, what: str, file_default: bool = False) -> Any:
        """`file_default`: an IncludeFile default, where `os.path.join(os.path.dirname(__file__), "x")`
        means "x" beside the flow (as flowc reads file defaults); anywhere else it would mean a
        path of the machine that compiles."""
        try:
            value = literals.evaluate(node, self.constants)
        except literals.NotLiteral as exc:
            if exc.reported:
                return MISSING
            self.error(exc.node, f"{what} must be a literal or a module-level constant, not {exc}")
            return MISSING
        if isinstance(value, literals.FlowRelativePath) and file_default:
            return str(value)
        if literals.contains_flow_path(value):
            self.error(
                node,
                f"{what} is a path beside the flow file, which means a path of the machine that compiles "
                "except as an IncludeFile default; write the path the task should use as a literal",
            )
            return MISSING
        return value

    # -- steps ---------------------------------------------------------------

    def _read_step(self, node: ast.FunctionDef, methods: set[str]) -> RawStep:
        step = RawStep(node.name, self.loc(node), doc=ast.get_docstring(node))
        step.decorators = self._decorators(node.decorator_list, "step", f"step '{node.name}'")
        params = node.args.args
        extra = node.args.posonlyargs + node.args.kwonlyargs
        if len(params) == 2 and not extra and not node.args.vararg and not node.args.kwarg:
            step.takes_inputs = True
        elif len(params) != 1 or extra or node.args.vararg or node.args.kwarg:
            self.error(node, f"step '{node.name}' must take (self) or, for a join, (self, inputs)")
        if isinstance(node, ast.AsyncFunctionDef):
            self.error(node, f"step '{node.name}' must not be async")
        self._read_next(node, step, methods)
        return step

    def _read_next(self, node: ast.FunctionDef, step: RawStep, methods: set[str]) -> None:
        if self._lines is None:
            self._lines = LINE_BREAK.split(self.source)
        calls = next_calls(self._lines, node)
        last = node.body[-1] if node.body else None
        final = last.value if isinstance(last, ast.Expr) and is_next_call(last.value) else None
        for call in calls:
            if call is not final:
                self.error(
                    call,
                    f"self.next(...) in step '{node.name}' must be the step's last statement, "
                    "outside any if, loop or try",
                )
        if final is None:
            if step.name != "end" and not calls:
                self.error(node, f"step '{node.name}' has no self.next(...); every step but 'end' names what runs next")
            return
        if step.name == "end":
            self.error(final, "step 'end' must not call self.next(...)")
            return
        if is_switch_call(final):
            read_switch(self, final, step)
            return
        read_plain_next(self, final, step, methods)
