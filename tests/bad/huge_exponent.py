# expect: 5:23: an exponent too large to evaluate
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @resources(memory=10 ** 100000)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
