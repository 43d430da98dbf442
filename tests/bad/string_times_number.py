# expect: 5:29: arithmetic on values that are not numbers
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @environment(vars={'X': 'a' * 1000000})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
