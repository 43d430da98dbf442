# expect: 5:13: Parameter(...) needs a name: Parameter('alpha', ...)
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    alpha = Parameter(default=1)
    
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
