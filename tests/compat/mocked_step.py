"""A user_step_decorator that replaces the step's code, the "Advanced Custom Decorators" page
(https://docs.metaflow.org/metaflow/composing-flows/advanced-custom-decorators: yield a function
and it runs in place of the step; `user_step_decorator`'s docstring: returning True makes
Metaflow call the self.next the replaced step would have called) -- a test double for a step
that would call a paid API."""

from compat_decorators import mock_step
from metaflow import FlowSpec, step


class MockedStepFlow(FlowSpec):
    @step
    def start(self):
        self.prompt = "summarise the release notes"
        self.next(self.call_llm)

    @mock_step(artifact="completion", value="(mocked completion)")
    @step
    def call_llm(self):
        raise RuntimeError("would call a paid API")
        self.next(self.end)

    @step
    def end(self):
        print("completion", self.completion, "for", repr(self.prompt))


if __name__ == "__main__":
    MockedStepFlow()
