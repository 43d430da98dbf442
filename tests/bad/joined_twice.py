# expect: 27:5: the branches of 'start' are joined twice: by 'j1' and by 'j2'
from flowc import FlowSpec, step


class F(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b, self.c)

    @step
    def a(self):
        self.next(self.j1)

    @step
    def b(self):
        self.next(self.j1)

    @step
    def c(self):
        self.next(self.j2)

    @step
    def j1(self, inputs):
        self.next(self.end)

    @step
    def j2(self, inputs):
        self.next(self.end)

    @step
    def end(self, inputs):
        pass
