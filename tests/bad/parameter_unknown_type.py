# expect: 5:37: Parameter type must be str, int, float, bool or JSONType, not complex
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter, catch, secrets, schedule

class F(FlowSpec):
    alpha = Parameter('alpha', type=complex)
    
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
