"""A read-only FlowMutator, Metaflow's "Mutators" page (https://docs.metaflow.org/metaflow/composing-flows/mutators):
`mutate(self, mutable_flow)` may introspect the flow's parameters and steps through
`mutable_flow.parameters` / `mutable_flow.steps`; this audit refuses a flow that still has
scratch steps (tmp_*), and changes nothing."""

from metaflow import FlowMutator, FlowSpec, Parameter, step


class NoScratchSteps(FlowMutator):
    def mutate(self, mutable_flow):
        names = sorted(name for name, _ in mutable_flow.parameters)
        steps = sorted(name for name, _ in mutable_flow.steps)
        scratch = [name for name in steps if name.startswith("tmp_")]
        if scratch:
            raise ValueError(f"scratch steps left in the flow: {scratch}")
        print("audit parameters", names, "steps", steps)


@NoScratchSteps
class AuditedFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5, help="smoothing factor")
    window = Parameter("window", default=7, help="days per window")

    @step
    def start(self):
        series = [10, 12, 11, 15]
        smoothed = [series[0]]
        for value in series[1:]:
            smoothed.append(round(self.alpha * value + (1 - self.alpha) * smoothed[-1], 2))
        self.smoothed = smoothed
        self.next(self.end)

    @step
    def end(self):
        print("smoothed", self.smoothed, "window", self.window)


if __name__ == "__main__":
    AuditedFlow()
