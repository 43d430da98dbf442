# expect: 5:13: parameter 'alpha' is required and has a default
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    alpha = Parameter('alpha', default=1, required=True)
    
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
