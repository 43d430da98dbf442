# expect: 5:18: argument 'times' of @retry must be an integer, got 1.5
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @retry(times=1.5)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
