# expect: 8:18: @resources cannot take ** arguments
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

SIZES = {'cpu': 2}


class F(FlowSpec):
    @resources(**SIZES)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
