# expect: 5:18: argument 'times' of @retry must be at least 0, got -1
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @retry(times=-1)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
