"""Flow inheritance from a sibling module (issue 14 item 4), the "BaseFlow" shape of Metaflow's
docs (https://docs.metaflow.org/metaflow/composing-flows/baseflow): the most derived class is the
flow; it keeps the base's steps and Parameter, overrides `evaluate` by name and a plain helper
method, and Python's method resolution decides which one runs."""

from compat_base_flow import TrainEvaluateBase
from metaflow import step


class ChurnTrainFlow(TrainEvaluateBase):
    def load(self):
        return [10, 20, 30]

    @step
    def evaluate(self):
        self.score = round(self.model / 1000, 3)
        print("custom evaluate for", self.epochs, "epochs")
        self.next(self.end)


if __name__ == "__main__":
    ChurnTrainFlow()
