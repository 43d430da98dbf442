# expect: 6:5: step 'start' has no self.next
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self):
        self.x = 1

    @step
    def end(self):
        pass
