# expect: 9:23: the name 'MEM', which is bound at line 5 to a call of 'int', which flowc cannot run
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

import os
MEM = int(os.environ['MEM'])


class F(FlowSpec):
    @resources(memory=MEM)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
