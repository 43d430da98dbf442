# expect: 18:5: step 'join' joins a, b: a join must take inputs
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self):
        self.next(self.end)

    @step
    def end(self):
        pass
