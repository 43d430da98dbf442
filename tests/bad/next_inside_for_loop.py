# expect: 9:13: self.next(...) in step 'start' must be the step's last statement
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self):
        for i in range(2):
            self.next(self.end)

    @step
    def end(self):
        pass
