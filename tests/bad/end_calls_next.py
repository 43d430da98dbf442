# expect: 12:9: step 'end' must not call self.next
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        self.next(self.start)
