# expect: 9:9: the foreach of 'start' is never joined
from flowc import FlowSpec, step


class F(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.next(self.end)

    @step
    def end(self):
        pass
