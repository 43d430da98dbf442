# expect: 5:1: flow 'F' has no 'start' step
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter


class F(FlowSpec):
    @step
    def begin(self):
        self.next(self.end)

    @step
    def end(self):
        pass
