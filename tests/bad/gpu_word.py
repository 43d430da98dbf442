# expect: 5:20: argument 'gpu' of @resources must be a number, got 'two'
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @resources(gpu='two')
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
