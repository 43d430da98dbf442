# expect: 9:13: self.next(...) in step 'start' must be the step's last statement
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    
    @step
    def start(self):
        try:
            self.next(self.end)
        except Exception:
            pass

    @step
    def end(self):
        pass
