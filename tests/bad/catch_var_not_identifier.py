# expect: 5:6: @catch(var='my var') must name an attribute
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @catch(var='my var')
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
