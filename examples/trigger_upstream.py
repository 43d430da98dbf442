"""The upstream of trigger_downstream.py: each of its successful runs starts TriggerDownstreamFlow once deployed."""

from flowc import FlowSpec, Parameter, step


class TriggerUpstreamFlow(FlowSpec):
    size = Parameter("size", type=int, default=3)

    @step
    def start(self):
        self.numbers = list(range(self.size))
        self.next(self.end)

    @step
    def end(self):
        print("produced", self.numbers)
