"""A linear flow: load numbers, transform them with more resources, report."""

from flowc import FlowSpec, resources, step


class LinearFlow(FlowSpec):
    @step
    def start(self):
        self.numbers = list(range(1, 11))
        self.next(self.transform)

    @resources(cpu=2, memory=8000)
    @step
    def transform(self):
        self.squares = [n * n for n in self.numbers]
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(self.squares)
        print("sum of squares:", self.total)
