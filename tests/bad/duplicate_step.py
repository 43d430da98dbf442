# expect: 14:5: step 'start' is defined twice (first at line 6)
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass

    @step
    def start(self):
        self.next(self.end)
