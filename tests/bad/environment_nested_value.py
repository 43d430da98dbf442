# expect: 5:6: @environment: the value of A must be a string or number
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @environment(vars={'A': {'b': 1}})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
