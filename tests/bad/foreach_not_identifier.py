# expect: 8:37: foreach='a-b' is not an attribute name
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self):
        self.next(self.end, foreach='a-b')

    @step
    def end(self):
        pass
