"""A user_step_decorator that times steps, Metaflow's "Custom Decorators" example
(https://docs.metaflow.org/metaflow/composing-flows/custom-decorators: code before `yield` runs
before the step, code after it once the step has succeeded, and the decorator may set
artifacts); applied to a feature step and a training step of a small pipeline."""

from compat_decorators import step_timer
from metaflow import FlowSpec, step


class TimedPipelineFlow(FlowSpec):
    @step
    def start(self):
        self.raw = [3, 1, 4, 1, 5, 9, 2, 6]
        self.next(self.features)

    @step_timer
    @step
    def features(self):
        mean = sum(self.raw) / len(self.raw)
        self.centered = [x - mean for x in self.raw]
        self.next(self.train)

    @step_timer
    @step
    def train(self):
        self.coef = round(max(self.centered) - min(self.centered), 3)
        self.next(self.end)

    @step
    def end(self):
        print("coef", self.coef, "timed steps", sorted(self.timings))


if __name__ == "__main__":
    TimedPipelineFlow()
