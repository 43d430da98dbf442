# expect: 7:5: step 'start' must take (self) or, for a join, (self, inputs)
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self, inputs, extra):
        self.next(self.end)

    @step
    def end(self):
        pass
