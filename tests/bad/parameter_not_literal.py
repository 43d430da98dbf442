# expect: 6:40: argument 'default' of Parameter must be a literal or a module-level constant, not a function call
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter
import time

class F(FlowSpec):
    stamp = Parameter("stamp", default=time.time())

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
