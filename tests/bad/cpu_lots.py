# expect: 5:20: argument 'cpu' of @resources must be a number, got 'lots'
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @resources(cpu="lots")
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
