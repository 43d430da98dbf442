"""A recursive step, Metaflow 2.19 ("Creating Flows", https://docs.metaflow.org/metaflow/basics#recursion):
a conditional whose map names the step itself repeats it, one task per iteration, until the
condition names another step -- training epochs until the loss is under a bound.  flowc bounds
the iterations with @recursion(max=); the import is guarded so the file also runs where only
Metaflow is installed (Metaflow has no such decorator)."""

from metaflow import FlowSpec, Parameter, step

try:
    from flowc import recursion  # flowc's bound on the number of iterations
except ImportError:

    def recursion(**_):
        return lambda f: f


class RecursiveTrainingFlow(FlowSpec):
    tolerance = Parameter("tolerance", type=float, default=0.1)

    @step
    def start(self):
        self.loss = 1.0
        self.history = []
        self.next(self.epoch)

    @recursion(max=20)
    @step
    def epoch(self):
        self.loss = round(self.loss / 2, 4)
        self.history = self.history + [self.loss]
        self.status = "again" if self.loss > self.tolerance else "done"
        self.next({"again": self.epoch, "done": self.end}, condition="status")

    @step
    def end(self):
        print("epochs", len(self.history), "losses", self.history)


if __name__ == "__main__":
    RecursiveTrainingFlow()
