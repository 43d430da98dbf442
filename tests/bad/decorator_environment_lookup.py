# expect: 8:32: argument 'vars' of @environment must be a literal or a module-level constant, not an attribute lookup
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

import os


class F(FlowSpec):
    @environment(vars={"HOME": os.environ})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
