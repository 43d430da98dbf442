# expect: 6:6: @retry is given twice on step 'start'
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @retry(times=1)
    @retry(times=2)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
