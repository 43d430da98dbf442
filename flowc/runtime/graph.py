"""The flow's graph as the runtime sees it: a small scan of the imported class.

Each step's `self.next(...)` calls are read from its source with `ast` (the
step may raise before calling `next`, as under @catch, so the runtime never
depends on the call having run).  From the edges, flowc/contract/graph.py
(the compiler's own derivation) gives each step's parents, the split or
foreach a join closes, and the foreach scope, which with the task-id rules
(flowc/contract/ids.py) locate every parent task without orchestrator help.
"""

from __future__ import annotations

import ast
import inspect
import linecache
from dataclasses import dataclass, field

from flowc.contract.command import DEFAULT_RECURSION_MAX
from flowc.contract.graph import Node, derive, switch_is_recursive


@dataclass
class StepInfo:
    name: str
    next: tuple[str, ...] = ()
    foreach_var: str | None = None
    takes_inputs: bool = False
    switch: tuple[tuple[object, str], ...] = ()  # a conditional's (value, step); a value the scan cannot read is None
    condition: str | None = None
    recursion_max: int | None = None  # a recursive step's bound on iterations
    meets: tuple[str, ...] = ()  # the switches whose branches meet here
    parents: list[str] = field(default_factory=list)  # in source order, as the compiler lists them
    closes: str | None = None  # for a join: the split or foreach step it closes
    foreach_scope: tuple[str, ...] = ()  # the enclosing foreach steps, outermost first

    @property
    def is_foreach(self) -> bool:
        return self.foreach_var is not None

    @property
    def foreach_depth(self) -> int:
        return len(self.foreach_scope)

    @property
    def is_switch(self) -> bool:
        return bool(self.switch)

    @property
    def is_recursive(self) -> bool:
        return switch_is_recursive(self.name, self.switch)


class GraphError(Exception):
    pass


def step_functions(flow_class) -> dict:
    """{name: function} for every @step method of the class (inherited ones too), in source order.

    Source order (base classes first, then by line) is the order the compiler
    reads the steps in, so parents come out in the same order on both sides.
    """
    found = {}
    for name in dir(flow_class):
        value = getattr(flow_class, name, None)
        if callable(value) and getattr(value, "_is_step", False):
            found[name] = value
    mro = list(reversed(flow_class.__mro__))

    def source_position(name: str) -> tuple:
        defined_in = next((i for i, klass in enumerate(mro) if name in vars(klass)), len(mro))
        code = getattr(inspect.unwrap(found[name]), "__code__", None)
        return defined_in, code.co_firstlineno if code else 0, name

    return {name: found[name] for name in sorted(found, key=source_position)}


def _module_functions(filename: str) -> dict:
    """{(name, first line incl. decorators): [FunctionDef, ...]} of a source file, parsed once per process.

    One `ast.parse` (C) of the file replaces `inspect.getsource` per step, which
    tokenizes each step's block in Python (~1 ms a step, ~10 ms per task).
    """
    found = _PARSED.get(filename)
    if found is None:
        found = {}
        try:
            tree = ast.parse("".join(linecache.getlines(filename)))
        except (SyntaxError, ValueError):
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                found.setdefault((node.name, first), []).append(node)
        _PARSED[filename] = found
    return found


_PARSED: dict[str, dict] = {}


def _function_node(func):
    """The step's FunctionDef from its file's AST, or None when it cannot be told apart (then: getsource)."""
    try:
        code = inspect.unwrap(func).__code__
    except (AttributeError, ValueError):
        return None
    nodes = _module_functions(code.co_filename).get((code.co_name, code.co_firstlineno), [])
    return nodes[0] if len(nodes) == 1 else None


def _transitions(func) -> tuple[tuple[str, ...], str | None, tuple, str | None]:
    """(targets, foreach variable, conditional (value, step) pairs, condition) of the step's self.next call."""
    tree = _function_node(func)
    if tree is None:
        import textwrap

        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "next"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
        ):
            condition = None
            for keyword in node.keywords:
                if keyword.arg == "condition" and isinstance(keyword.value, ast.Constant):
                    condition = keyword.value.value
            if len(node.args) == 1 and isinstance(node.args[0], ast.Dict):
                # The values the step compares against come from its own self.next call at run time;
                # the scan needs only the steps, for the graph.
                pairs = tuple(
                    (key.value if isinstance(key, ast.Constant) else None, value.attr)
                    for key, value in zip(node.args[0].keys, node.args[0].values)
                    if isinstance(value, ast.Attribute)
                )
                return tuple(dict.fromkeys(t for _, t in pairs)), None, pairs, condition
            targets = tuple(a.attr for a in node.args if isinstance(a, ast.Attribute))
            foreach = None
            for keyword in node.keywords:
                if keyword.arg == "foreach" and isinstance(keyword.value, ast.Constant):
                    foreach = keyword.value.value
            return targets, foreach, (), None
    return (), None, (), None


def scan(flow_class) -> dict[str, StepInfo]:
    """StepInfo for every step, with parents, closes and foreach scopes derived as the compiler derives them."""
    steps: dict[str, StepInfo] = {}
    for name, func in step_functions(flow_class).items():
        targets, foreach, switch, condition = _transitions(func)
        positional = [
            p
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        steps[name] = StepInfo(
            name, targets, foreach, takes_inputs=len(positional) >= 2, switch=switch, condition=condition
        )
        if steps[name].is_recursive:
            bound = (getattr(func, "_step_decorators", {}).get("recursion") or {}).get("max", DEFAULT_RECURSION_MAX)
            steps[name].recursion_max = int(bound)
    for info in steps.values():
        for target in info.next:
            if target not in steps:
                raise GraphError(f"step '{info.name}' goes to '{target}', which is not a step")
    if "start" not in steps:
        raise GraphError("the flow has no 'start' step")
    structure = derive(
        [
            Node(s.name, s.next, s.foreach_var, s.takes_inputs, tuple((str(v), t) for v, t in s.switch))
            for s in steps.values()
        ]
    )
    if not structure.acyclic:
        raise GraphError("the flow's steps form a cycle")
    for name, info in steps.items():
        info.parents = structure.parents[name]
        # Only a step taking `inputs` reads a join's inputs; the compiler refuses the other shapes.
        info.closes = structure.closes.get(name) if info.takes_inputs else None
        info.foreach_scope = structure.scope.get(name, ())
        info.meets = structure.meets.get(name, ())
    return steps
