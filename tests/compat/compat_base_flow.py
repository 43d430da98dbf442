"""A team's base flow in its own module (a helper, not a flow: the compat test skips compat_*.py):
the standard train/evaluate skeleton with a Parameter and a @retry on train.  Flows in other
files derive from it and override steps by name (inherit_sibling.py)."""

from metaflow import FlowSpec, Parameter, retry, step


class TrainEvaluateBase(FlowSpec):
    epochs = Parameter("epochs", type=int, default=2)

    @step
    def start(self):
        self.data = self.load()
        self.next(self.train)

    @retry(times=1, minutes_between_retries=0)
    @step
    def train(self):
        self.model = sum(self.data) * self.epochs
        self.next(self.evaluate)

    @step
    def evaluate(self):
        self.score = self.model / 100
        self.next(self.end)

    @step
    def end(self):
        print(type(self).__name__, "score", self.score)

    def load(self):
        return [1, 2, 3]
