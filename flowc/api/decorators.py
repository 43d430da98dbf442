"""The authoring API's decorators: each records its arguments on the function or class.

Arguments are checked against the one table in flowc/contract/decorators.py,
which the compiler's frontend reads too.  Standard library only: user flows
import this inside containers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowc.contract.decorators import DECORATORS, DecoratorSpec, card_id_problem, check_value, did_you_mean

if TYPE_CHECKING:
    from typing import Callable


def _make_decorator(spec: DecoratorSpec) -> Callable:
    def decorator(target=None, **kwargs):
        unknown = [k for k in kwargs if spec.arg(k) is None]
        if unknown:
            raise TypeError(f"@{spec.name} has no argument '{unknown[0]}'" + did_you_mean(unknown[0], spec.arg_names))

        def apply(obj):
            if spec.level == "flow":
                recorded = dict(getattr(obj, "_flow_decorators", {}))
                recorded[spec.name] = kwargs
                obj._flow_decorators = recorded
            else:
                recorded = dict(getattr(obj, "_step_decorators", {}))
                recorded[spec.name] = kwargs
                obj._step_decorators = recorded
            return obj

        if target is not None and callable(target) and not kwargs:
            return apply(target)  # used bare: @retry
        return apply

    decorator.__name__ = spec.name
    decorator.__doc__ = f"@{spec.name}: {spec.summary}. Arguments: {', '.join(spec.arg_names)}."
    return decorator


resources = _make_decorator(DECORATORS["resources"])
batch = _make_decorator(DECORATORS["batch"])
kubernetes = _make_decorator(DECORATORS["kubernetes"])
retry = _make_decorator(DECORATORS["retry"])
catch = _make_decorator(DECORATORS["catch"])
timeout = _make_decorator(DECORATORS["timeout"])
recursion = _make_decorator(DECORATORS["recursion"])
environment = _make_decorator(DECORATORS["environment"])
secrets = _make_decorator(DECORATORS["secrets"])
conda = _make_decorator(DECORATORS["conda"])
pypi = _make_decorator(DECORATORS["pypi"])
skypilot = _make_decorator(DECORATORS["skypilot"])
schedule = _make_decorator(DECORATORS["schedule"])
trigger = _make_decorator(DECORATORS["trigger"])
trigger_on_finish = _make_decorator(DECORATORS["trigger_on_finish"])
project = _make_decorator(DECORATORS["project"])
conda_base = _make_decorator(DECORATORS["conda_base"])
pypi_base = _make_decorator(DECORATORS["pypi_base"])


def card(target=None, **kwargs):
    """@card: an HTML report of the task, rendered after the step (current.card). Arguments: type, id, options,
    timeout, save_errors.  Repeatable: one page per card, named by its id (else its type)."""
    spec = DECORATORS["card"]
    for name, value in kwargs.items():
        arg = spec.arg(name)
        if arg is None:
            raise TypeError(f"@card has no argument '{name}'" + did_you_mean(name, spec.arg_names))
        problem = check_value(spec, arg, value)
        if problem:
            raise TypeError(problem)
    problem = card_id_problem(kwargs.get("id"))
    if problem:
        raise TypeError(problem)

    def apply(func):
        # Decorators apply bottom-up: putting each in front keeps the cards in the order they are written.
        func._flowc_cards = [dict(kwargs), *getattr(func, "_flowc_cards", [])]
        return func

    if target is not None and callable(target) and not kwargs:
        return apply(target)  # used bare: @card
    return apply
