# expect: 5:6: @timeout needs seconds, minutes or hours greater than zero
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @timeout(seconds=0)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
