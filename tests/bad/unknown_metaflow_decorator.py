# expect: 6:6: unknown decorator @frobnicate
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter
from metaflow import frobnicate

class F(FlowSpec):
    @frobnicate
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
