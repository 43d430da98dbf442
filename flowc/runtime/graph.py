"""The flow's graph as the runtime sees it: a small scan of the imported class.

Each step's `self.next(...)` calls are read from its source with `ast` (the
step may raise before calling `next`, as under @catch, so the runtime never
depends on the call having run).  From the edges come each step's parents,
the split or foreach a join closes, and the foreach scope, which with the
task-id rules locate every parent task without any orchestrator help.
"""

from __future__ import annotations

import ast
import inspect
import linecache
from dataclasses import dataclass, field


@dataclass
class StepInfo:
    name: str
    next: tuple[str, ...] = ()
    foreach_var: str | None = None
    takes_inputs: bool = False
    parents: list[str] = field(default_factory=list)
    closes: str | None = None  # for a join: the split or foreach step it closes
    stack: tuple[str, ...] = ()  # open splits/foreaches around the step, outermost first
    foreach_scope: tuple[str, ...] = ()  # the foreach steps in `stack`

    @property
    def is_foreach(self) -> bool:
        return self.foreach_var is not None

    @property
    def is_split(self) -> bool:
        return self.foreach_var is None and len(self.next) > 1

    @property
    def foreach_depth(self) -> int:
        return len(self.foreach_scope)


class GraphError(Exception):
    pass


def step_functions(flow_class) -> dict:
    """{name: function} for every @step method of the class (inherited ones too)."""
    found = {}
    for name in dir(flow_class):
        value = getattr(flow_class, name, None)
        if callable(value) and getattr(value, "_is_step", False):
            found[name] = value
    return found


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


def _transitions(func) -> tuple[tuple[str, ...], str | None]:
    tree = _function_node(func)
    if tree is None:
        import textwrap

        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "next"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"):
            targets = tuple(a.attr for a in node.args if isinstance(a, ast.Attribute))
            foreach = None
            for keyword in node.keywords:
                if keyword.arg == "foreach" and isinstance(keyword.value, ast.Constant):
                    foreach = keyword.value.value
            return targets, foreach
    return (), None


def scan(flow_class) -> dict[str, StepInfo]:
    """StepInfo for every step, with parents, closes and scopes derived."""
    functions = step_functions(flow_class)
    steps: dict[str, StepInfo] = {}
    for name, func in functions.items():
        targets, foreach = _transitions(func)
        positional = [p for p in inspect.signature(func).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        steps[name] = StepInfo(name, targets, foreach, takes_inputs=len(positional) >= 2)
    for info in steps.values():
        for target in info.next:
            if target not in steps:
                raise GraphError(f"step '{info.name}' goes to '{target}', which is not a step")
            steps[target].parents.append(info.name)
    if "start" not in steps:
        raise GraphError("the flow has no 'start' step")
    for name in _topological(steps):
        info = steps[name]
        if info.parents:
            parent = steps[info.parents[0]]
            incoming = parent.stack + ((parent.name,) if parent.is_foreach or parent.is_split else ())
            if info.takes_inputs and incoming:
                info.closes = incoming[-1]
                incoming = incoming[:-1]
            info.stack = incoming
        info.foreach_scope = tuple(s for s in info.stack if steps[s].is_foreach)
    return steps


def _topological(steps: dict[str, StepInfo]) -> list[str]:
    indegree = {n: len(s.parents) for n, s in steps.items()}
    ready = sorted(n for n, d in indegree.items() if d == 0)
    order = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for target in steps[name].next:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    if len(order) != len(steps):
        raise GraphError("the flow's steps form a cycle")
    return order


# ---------------------------------------------------------------------------
# Task-id rules (shared with every emitter, see flowc/compiler/command.py)


def parent_task_of_child(task_id: str) -> str:
    """The foreach step's task id for a child task `task_id` ('3' -> '0', '3.7' -> '3')."""
    head, dot, _ = task_id.rpartition(".")
    return head if dot else "0"


def child_task_ids(foreach_step: StepInfo, task_id: str, count: int) -> list[str]:
    """The split list: task ids of a foreach step's children."""
    if foreach_step.foreach_depth == 0:
        return [str(i) for i in range(count)]
    return [f"{task_id}.{i}" for i in range(count)]


def task_sort_key(task_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in task_id.split("."))
