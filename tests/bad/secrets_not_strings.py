# expect: 5:6: @secrets: each source must be a secret's name, got 1
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @secrets(sources=[1])
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
