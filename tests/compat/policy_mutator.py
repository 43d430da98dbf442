"""A read-only StepMutator, Metaflow's "Mutators" page (https://docs.metaflow.org/metaflow/composing-flows/mutators):
`mutate(self, mutable_step)` may introspect the step's decorators through
`mutable_step.decorator_specs`; this one enforces a team policy (every remote step has @retry)
and changes nothing."""

from compat_decorators import RequireRetry
from metaflow import FlowSpec, resources, retry, step


class PolicyMutatorFlow(FlowSpec):
    @step
    def start(self):
        self.batches = 3
        self.next(self.score)

    @RequireRetry
    @retry(times=1, minutes_between_retries=0)
    @resources(cpu=1, memory=1024)
    @step
    def score(self):
        self.scored = self.batches * 100
        self.next(self.end)

    @step
    def end(self):
        print("scored", self.scored)


if __name__ == "__main__":
    PolicyMutatorFlow()
