# expect: 34:5: join 'final' mixes steps from different branches
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.a1, self.a2)

    @step
    def a1(self):
        self.next(self.a_join)

    @step
    def a2(self):
        self.next(self.final)

    @step
    def a_join(self, inputs):
        self.next(self.final)

    @step
    def b(self):
        self.next(self.final)

    @step
    def end(self):
        pass

    @step
    def final(self, inputs):
        self.next(self.end)
