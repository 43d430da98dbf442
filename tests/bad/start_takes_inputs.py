# expect: 7:5: step 'start' cannot take inputs
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
