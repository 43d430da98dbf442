# expect: 7:23: argument 'memory' of @resources must be a literal or a module-level constant, not a call of 'int', which flowc cannot run; write the value as a literal
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter



class F(FlowSpec):
    @resources(memory=int("4096"))
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
