# expect: 3:2: @retry belongs on a step, not on class F
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter
@retry(times=1)
class F(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
