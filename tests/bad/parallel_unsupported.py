# expect: 6:6: @parallel is not supported by flowc
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter
from metaflow import parallel

class F(FlowSpec):
    @parallel
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
