# expect: 8:9: self.next(...) names no step
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self):
        self.next()

    @step
    def end(self):
        pass
