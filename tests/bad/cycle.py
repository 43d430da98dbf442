# expect: 11:9: the flow has a cycle: a -> b -> a
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self):
        self.next(self.a)

    @step
    def a(self):
        self.next(self.b)

    @step
    def b(self):
        self.next(self.a)

    @step
    def end(self):
        pass
