# expect: 5:6: @environment: '1BAD' is not a valid variable name
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @environment(vars={'1BAD': 'x'})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
