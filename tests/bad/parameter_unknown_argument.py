# expect: 5:32: Parameter(...) has no argument 'defualt' (did you mean 'default'?)
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    alpha = Parameter('alpha', defualt=1)
    
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
