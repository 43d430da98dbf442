"""Metaflow 2.16's decorators written by users: `user_step_decorator`, `StepMutator`, `FlowMutator`.

They run inside the task (flowc/runtime/user_decorators.py), as in Metaflow; the
compiler warns that no target sees them.  Applying one never replaces the step
function: it is recorded on it (`_flowc_wrappers`, `_flowc_mutators`), so the
runtime and the compiler find the step where the file defines it.

What flowc does not do: a mutator that *changes* the flow (adds or removes a
decorator or a parameter) would change what the compiler built from the source;
the compiler refuses such a call at its line, and the runtime refuses it with a
named cause if the compiler could not see it (a mutator from another package).
"""

from __future__ import annotations

import inspect

# Metaflow's value a user step decorator yields to skip the step (the step's own self.next is not run;
# the flow goes on to the steps the graph names).
USER_SKIP_STEP: dict = {}


class UserDecoratorError(TypeError):
    """A user decorator written against Metaflow's rules flowc cannot follow."""


def _attach(func, attribute: str, item) -> None:
    if not callable(func):
        raise UserDecoratorError(f"a user decorator applies to a step function, not {func!r}")
    # the outermost decorator (applied last) comes first, so the runtime enters them in source order
    setattr(func, attribute, (item, *getattr(func, attribute, ())))


class _UserStepDecorator:
    """What `@user_step_decorator` makes of a generator function: `@timing` or `@timing(k=v)` on a step."""

    def __init__(self, generator, kwargs: dict | None = None):
        self.generator = generator
        self.kwargs = dict(kwargs or {})
        self.__name__ = generator.__name__
        self.__doc__ = generator.__doc__

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], type):
            _attach(args[0], "_flowc_wrappers", self)
            return args[0]
        if args:
            raise UserDecoratorError(f"@{self.__name__} takes keyword arguments only (Metaflow's rule)")
        if len(inspect.signature(self.generator).parameters) != 4:
            raise UserDecoratorError(
                f"@{self.__name__}(...) needs a generator of 4 arguments (step_name, flow, inputs, attributes)"
            )
        return _UserStepDecorator(self.generator, kwargs)


def user_step_decorator(generator):
    """Make a generator `(step_name, flow, inputs[, attributes])` that yields once into a step decorator."""
    if not inspect.isgeneratorfunction(generator):
        raise UserDecoratorError("@user_step_decorator can only decorate generator functions")
    if len(inspect.signature(generator).parameters) not in (3, 4):
        raise UserDecoratorError(
            "@user_step_decorator needs a generator of 3 or 4 arguments (step_name, flow, inputs[, attributes])"
        )
    return _UserStepDecorator(generator)


class _MutatorMeta(type):
    """`@AddThing` (the class on a step or flow) and `@AddThing(args)` (an instance): both record it."""

    def __call__(cls, *args, **kwargs):
        target = args[0] if len(args) == 1 and not kwargs else None
        if target is not None and (inspect.isfunction(target) or isinstance(target, type)):
            instance = super().__call__()
            instance.init()
            return instance(target)
        instance = super().__call__()
        instance.init(*args, **kwargs)
        return instance


class _Mutator(metaclass=_MutatorMeta):
    _attribute = ""

    def init(self, *args, **kwargs):
        """Metaflow's hook for the decorator's arguments."""

    def __call__(self, target):
        _attach(target, self._attribute, self)
        return target


class StepMutator(_Mutator):
    """Subclass and define `pre_mutate(self, mutable_step)` / `mutate(self, mutable_step)`."""

    _attribute = "_flowc_mutators"

    def pre_mutate(self, mutable_step) -> None:
        pass

    def mutate(self, mutable_step) -> None:
        pass


class FlowMutator(_Mutator):
    """Subclass and define `pre_mutate(self, mutable_flow)` / `mutate(self, mutable_flow)`."""

    _attribute = "_flowc_flow_mutators"

    def pre_mutate(self, mutable_flow) -> None:
        pass

    def mutate(self, mutable_flow) -> None:
        pass
