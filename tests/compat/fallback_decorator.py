"""A user_step_decorator that handles the step's exception, the "Advanced Custom Decorators" page's
pattern (https://docs.metaflow.org/metaflow/composing-flows/advanced-custom-decorators: wrap
`yield` in try/except to act on a failure of the user code); here the handler sets a fallback
artifact instead of re-raising, so the run continues, as a retry-like guard around a flaky
enrichment step does."""

from compat_decorators import fallback_on_error
from metaflow import FlowSpec, step


class FallbackDecoratorFlow(FlowSpec):
    @step
    def start(self):
        self.users = ["ann", "bob"]
        self.next(self.enrich)

    @fallback_on_error(artifact="geo", value="unknown")
    @step
    def enrich(self):
        lookup = {"ann": "FI"}
        self.geo = ",".join(lookup[u] for u in self.users)  # bob is missing: KeyError
        self.next(self.end)

    @step
    def end(self):
        print("geo", self.geo)


if __name__ == "__main__":
    FallbackDecoratorFlow()
