# expect: 8:29: self.next(...) has no argument 'forach' (did you mean 'foreach'?)
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self):
        self.next(self.end, forach='x')

    @step
    def end(self):
        pass
