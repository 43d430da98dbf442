# expect: 8:18: the ** arguments of @resources must be a literal or a module-level constant, not the name 'SIZES', which is bound at line 4 to a call of 'dict', which flowc cannot run
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

SIZES = dict(cpu=2)


class F(FlowSpec):
    @resources(**SIZES)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
