"""A recursive step: `count` runs again, one task per iteration, until it reaches a Parameter's bound.

Its conditional names the step itself ("again"), so it repeats until the
condition names another step ("done").  @recursion(max=...) bounds the
iterations: the runtime fails the one that would exceed it, on every target.
"""

from flowc import FlowSpec, Parameter, recursion, step


class RecursiveFlow(FlowSpec):
    bound = Parameter("bound", default=4, help="how many times `count` runs")

    @step
    def start(self):
        self.total = 0
        self.iterations = []
        self.next(self.count)

    @recursion(max=20)
    @step
    def count(self):
        self.iterations = self.iterations + [len(self.iterations)]
        self.total += len(self.iterations)
        self.status = "again" if len(self.iterations) < self.bound else "done"
        self.next({"again": self.count, "done": self.end}, condition="status")

    @step
    def end(self):
        print("iterations:", self.iterations, "total:", self.total)
