"""A derived flow that overrides an inherited Parameter by name and keeps another (Python class
attributes, which Metaflow reads from the most derived class): the base declares `threshold`
with 0.5 and `label`; the derived flow redeclares `threshold` with 0.8
(https://docs.metaflow.org/metaflow/composing-flows/baseflow: flows inherit a base's Parameters)."""

from metaflow import FlowSpec, Parameter, step


class AlertBase(FlowSpec):
    threshold = Parameter("threshold", type=float, default=0.5)
    label = Parameter("label", default="latency")

    @step
    def start(self):
        readings = [0.3, 0.6, 0.85, 0.9]
        self.alerts = [r for r in readings if r > self.threshold]
        self.next(self.end)

    @step
    def end(self):
        print(self.label, "alerts", self.alerts, "threshold", self.threshold)


class StrictAlertFlow(AlertBase):
    threshold = Parameter("threshold", type=float, default=0.8)


if __name__ == "__main__":
    StrictAlertFlow()
