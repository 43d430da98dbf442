# expect: 8:29: needs @parallel, which flowc does not support
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self):
        self.next(self.end, num_parallel=4)

    @step
    def end(self):
        pass
