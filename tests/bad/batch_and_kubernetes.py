# expect: 6:6: step 'start' has both @batch and @kubernetes
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @batch(cpu=2)
    @kubernetes(cpu=2)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
