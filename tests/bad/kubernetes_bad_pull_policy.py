# expect: 5:35: argument 'image_pull_policy' of @kubernetes must be one of Always, IfNotPresent, Never, got 'Sometimes'
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    @kubernetes(image_pull_policy='Sometimes')
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
