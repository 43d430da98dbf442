# expect: 5:16: @resources has no argument 'memroy' (did you mean 'memory'?)
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @resources(memroy=4096)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
