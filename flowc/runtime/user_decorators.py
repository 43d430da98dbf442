"""Run a step through its user decorators (flowc/api/user_decorators.py), as Metaflow 2.16 documents them.

`user_step_decorator` generators, outermost first, each `(step_name, flow, inputs[, attributes])`:
- yields None: the rest (inner decorators, then the step) runs; an exception from it is thrown into
  the generator, which may handle it (the step then succeeds) or let it go;
- yields a callable: it runs instead of the rest, as `callable(flow, inputs)`; its return value
  (None, False, True) leaves the flow's graph as compiled;
- yields `{}` (USER_SKIP_STEP), or returns without yielding: the step's code does not run, and the
  flow goes on to the steps its graph names.
A non-empty dict (new `self.next` arguments) or a second yield is refused with a named cause, exit 2:
the graph every target runs was compiled from the source and cannot change in a task.

Mutators run their `pre_mutate` then `mutate` before the step, flow mutators first, with read access to
the step (`name`, `decorator_specs`) and flow (`steps`, `parameters`, `configs`); a change (adding or
removing a decorator or a parameter) is refused the same way, since no target would see it.
"""

from __future__ import annotations

from flowc.runtime.artifacts import TaskFailure


class UserDecoratorRefused(TaskFailure):
    """A user decorator or mutator asked for what a compiled flow cannot do in a task (exit 2)."""


def apply_mutators(flow_class, step_name: str, func) -> None:
    flow = _MutableFlow(flow_class)
    step = _MutableStep(step_name, func)
    for hook in ("pre_mutate", "mutate"):
        for mutator in getattr(flow_class, "_flowc_flow_mutators", ()):
            getattr(mutator, hook)(flow)
        for mutator in getattr(func, "_flowc_mutators", ()):
            getattr(mutator, hook)(step)


def call_step(func, step_name: str, flow, inputs, passthrough: tuple = ()) -> None:
    """Run `func` (with `inputs` for a join) through its user step decorators; `passthrough` exceptions
    (the runtime's own faults) are never handed to a user's generator."""

    def body():
        return func(flow, inputs) if inputs is not None else func(flow)

    _enter(tuple(getattr(func, "_flowc_wrappers", ())), step_name, flow, inputs, body, passthrough)


def _enter(wrappers, step_name, flow, inputs, body, passthrough) -> None:
    if not wrappers:
        body()
        return
    decorator, rest = wrappers[0], wrappers[1:]
    name = f"@{decorator.__name__}"
    given = inputs if inputs is not None else []
    generator = (
        decorator.generator(step_name, flow, given, decorator.kwargs)
        if _arity(decorator.generator) == 4
        else decorator.generator(step_name, flow, given)
    )
    try:
        yielded = next(generator)
    except StopIteration:
        return  # it did not yield: the step does not run (Metaflow's rule)
    if isinstance(yielded, dict):
        if yielded:
            raise UserDecoratorRefused(
                f"{name} on step '{step_name}' yields {sorted(yielded)} for self.next: a compiled flow's graph "
                "cannot change in a task; yield {} (USER_SKIP_STEP) to skip the step"
            )
        inner = None
    elif yielded is None:

        def inner():
            _enter(rest, step_name, flow, inputs, body, passthrough)

    elif callable(yielded):

        def inner():
            yielded(flow, inputs)

    else:
        raise UserDecoratorRefused(
            f"{name} on step '{step_name}' yields {type(yielded).__name__}, not None, {{}} or a function"
        )
    try:
        if inner is not None:
            inner()
    except passthrough:
        generator.close()
        raise
    except Exception as exc:  # the step's (or an inner decorator's) failure, handed to the generator
        try:
            generator.throw(exc)
        except StopIteration:
            return  # handled: the step succeeds
        _yielded_twice(name, step_name)
    try:
        next(generator)
    except StopIteration:
        return
    _yielded_twice(name, step_name)


def _yielded_twice(name: str, step_name: str) -> None:
    raise UserDecoratorRefused(f"{name} on step '{step_name}' yields more than once (Metaflow's rule: at most once)")


def _arity(generator) -> int:
    import inspect

    return len(inspect.signature(generator).parameters)


def _refuse(what: str) -> None:
    raise UserDecoratorRefused(
        f"a mutator {what}: flowc compiles decorators and parameters from the source, so no target would see "
        "the change; write it in the flow file"
    )


class _MutableStep:
    def __init__(self, name: str, func):
        self.name = name
        self._func = func

    @property
    def decorator_specs(self):
        """(name, name, args, kwargs) of the step's flowc decorators, as Metaflow lists them."""
        for deco, kwargs in getattr(self._func, "_step_decorators", {}).items():
            yield deco, deco, (), dict(kwargs)

    def add_decorator(self, deco, **kwargs):
        _refuse(f"adds @{getattr(deco, '__name__', deco)} to step '{self.name}'")

    def remove_decorator(self, deco, **kwargs):
        _refuse(f"removes @{getattr(deco, '__name__', deco)} from step '{self.name}'")


class _MutableFlow:
    def __init__(self, flow_class):
        self._class = flow_class

    @property
    def steps(self):
        from flowc.runtime.graph import step_functions

        for name, func in step_functions(self._class).items():
            yield name, _MutableStep(name, func)

    @property
    def parameters(self):
        from flowc.runtime.parameters import flow_parameters

        for parameter in flow_parameters(self._class):
            yield parameter.name, parameter

    @property
    def configs(self):
        from flowc.api.configs import Config

        for attribute, value in vars(self._class).items():
            if isinstance(value, Config):
                yield attribute, value

    def add_parameter(self, name, value, overwrite=False):
        _refuse(f"adds the parameter '{name}'")

    def remove_parameter(self, name):
        _refuse(f"removes the parameter '{name}'")

    def add_decorator(self, deco, **kwargs):
        _refuse(f"adds @{getattr(deco, '__name__', deco)} to the flow")

    def remove_decorator(self, deco, **kwargs):
        _refuse(f"removes @{getattr(deco, '__name__', deco)} from the flow")
