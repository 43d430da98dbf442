"""The authoring API's decorators: each records its arguments on the function or class.

Arguments are checked against the one table in flowc/contract/decorators.py,
which the compiler's frontend reads too.  Standard library only: user flows
import this inside containers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowc.contract.decorators import DECORATORS, DecoratorSpec, did_you_mean

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


def _make_ignored(name: str) -> Callable:
    def decorator(target=None, **kwargs):
        if target is not None and callable(target) and not kwargs:
            return target
        return lambda obj: obj

    decorator.__name__ = name
    return decorator


card = _make_ignored("card")
