# expect: 6:20: syntax error
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self)
        self.next(self.end)
