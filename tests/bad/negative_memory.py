# expect: 5:23: argument 'memory' of @resources must be at least 0, got -5
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @resources(memory=-5)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
