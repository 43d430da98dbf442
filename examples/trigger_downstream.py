"""Runs when a run of TriggerUpstreamFlow (trigger_upstream.py) succeeds, on the target both are deployed to."""

from flowc import FlowSpec, step, trigger_on_finish


@trigger_on_finish(flow="TriggerUpstreamFlow")
class TriggerDownstreamFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        print("the upstream finished")
