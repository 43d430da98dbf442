# expect: 5:11: parameter attribute 'end' has the name of a step
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    end = Parameter('finish', default=1)
    
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
