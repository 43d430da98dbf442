# expect: 9:23: argument 'memory' of @resources must be a literal or a module-level constant, not the name 'MEM'
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

MEM = 1000
MEM = 2000


class F(FlowSpec):
    @resources(memory=MEM)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
