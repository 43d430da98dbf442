# expect: 5:6: @schedule belongs on the flow class, not on step 'start'
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @schedule(daily=True)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
