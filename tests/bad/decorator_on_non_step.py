# expect: 9:6: @retry is on 'helper', which is not a @step
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @retry(times=2)
    def helper(self):
        return 1

    @step
    def end(self):
        pass
