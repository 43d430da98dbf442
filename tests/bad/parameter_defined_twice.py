# expect: 6:12: parameter 'alpha' is defined twice
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    alpha = Parameter('alpha', default=1)
    beta = Parameter('alpha', default=2)
    
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
