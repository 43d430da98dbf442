# expect: 5:12: @retry takes keyword arguments only
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @retry(3)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
