"""A conditional branch: a Parameter picks which branch runs; the branches meet again at `summarize`.

`flowc run examples/conditional.py --param route=low` takes the other branch.
Only the chosen branch runs, so the meeting step takes no `inputs`: it reads
the artifacts of the one branch that ran.
"""

from flowc import FlowSpec, Parameter, step


class ConditionalFlow(FlowSpec):
    route = Parameter("route", default="high", help="which branch runs: high or low")

    @step
    def start(self):
        self.amount = 40
        self.choice = self.route  # the condition is an artifact, read after the step
        self.next({"high": self.high, "low": self.low}, condition="choice")

    @step
    def high(self):
        self.result = self.amount * 10
        self.label = "high"
        self.next(self.summarize)

    @step
    def low(self):
        self.result = self.amount // 10
        self.label = "low"
        self.next(self.summarize)

    @step
    def summarize(self):
        self.summary = f"{self.label}: {self.result}"
        print("meeting step:", self.summary)
        self.next(self.end)

    @step
    def end(self):
        print("result:", self.summary)
