# expect: 8:13: self.next(...) in step 'start' must be the step's last statement
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self):
        if True:
            self.next(self.end)

    @step
    def end(self):
        pass
