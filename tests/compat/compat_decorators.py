"""Team step decorators written with Metaflow's public API (a helper module, not a flow: the compat
test skips compat_*.py).  Kept in their own module as Metaflow's "Custom Decorators" page does
(https://docs.metaflow.org/metaflow/composing-flows/custom-decorators: "save the module ... and
import it in your flow")."""

import time

from metaflow import USER_SKIP_STEP, StepMutator, current, user_step_decorator


@user_step_decorator
def step_timer(step_name, flow, inputs=None, attributes=None):
    """Code before the yield runs before the step, code after it after the step succeeded."""
    start = time.time()
    yield
    flow.timings = dict(getattr(flow, "timings", {}), **{step_name: round(time.time() - start, 3)})
    print(f"timed {current.pathspec.split('/')[2]}")


@user_step_decorator
def fallback_on_error(step_name, flow, inputs=None, attributes=None):
    """The advanced page's try/except around the yield: the step's exception is thrown into the
    generator; handling it (not re-raising) makes the task succeed with the fallback artifacts."""
    try:
        yield
    except Exception as error:  # any failure of the user code, as the docs' pattern catches it
        print(f"{step_name} failed ({type(error).__name__}); using fallback {attributes['value']!r}")
        setattr(flow, attributes["artifact"], attributes["value"])


@user_step_decorator
def skip_if_cached(step_name, flow, inputs=None, attributes=None):
    """The advanced page's skipping: yielding USER_SKIP_STEP skips the user code, and Metaflow
    takes the transition the step's own self.next would have taken (its docstring)."""
    if getattr(flow, "cached", None):
        print(f"{step_name}: cache hit, skipping")
        flow.source = "cache"
        yield USER_SKIP_STEP
    else:
        yield


class RequireRetry(StepMutator):
    """A read-only policy check: it inspects the step's decorators and changes nothing."""

    def mutate(self, mutable_step):
        names = sorted(name for name, _, _, _ in mutable_step.decorator_specs)
        if "retry" not in names:
            raise RuntimeError("this team's remote steps must have @retry")
        print("policy ok:", ",".join(n for n in names if n in ("retry", "resources")))


@user_step_decorator
def mock_step(step_name, flow, inputs=None, attributes=None):
    """The advanced page's replacement: yielding a function runs it instead of the step's code;
    it returning True asks Metaflow to take the step's own self.next transition."""

    def fake(flow_self, *_inputs):
        print(f"{step_name}: mocked")
        setattr(flow_self, attributes["artifact"], attributes["value"])
        return True

    yield fake
