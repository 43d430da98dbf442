# expect: 8:32: argument 'image' of @batch must be a literal or a module-level constant, not the name 'VERSION', which is not a module-level constant
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

TAG = 'v1'


class F(FlowSpec):
    @batch(image=f'repo/{TAG}-{VERSION}')
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
