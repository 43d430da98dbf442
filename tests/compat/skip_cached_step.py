"""A user_step_decorator that skips the step, the "Advanced Custom Decorators" page's skipping
(https://docs.metaflow.org/metaflow/composing-flows/advanced-custom-decorators: yield
USER_SKIP_STEP and the user code does not run); a Parameter decides whether the cache is used."""

from compat_decorators import skip_if_cached
from metaflow import FlowSpec, Parameter, step


class SkipCachedStepFlow(FlowSpec):
    use_cache = Parameter("use-cache", is_flag=True)

    @step
    def start(self):
        self.cached = self.use_cache
        self.next(self.expensive)

    @skip_if_cached
    @step
    def expensive(self):
        self.source = "computed"
        self.next(self.end)

    @step
    def end(self):
        print("source", self.source)


if __name__ == "__main__":
    SkipCachedStepFlow()
