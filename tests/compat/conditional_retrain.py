"""A conditional transition, Metaflow 2.19's `self.next({...}, condition="name")` ("Creating Flows",
https://docs.metaflow.org/metaflow/basics#conditional): only the step the artifact names runs,
and the branches meet again at an ordinary step.  Drift above the threshold retrains, otherwise
the current model is kept."""

from metaflow import FlowSpec, Parameter, step


class ConditionalRetrainFlow(FlowSpec):
    drift = Parameter("drift", type=float, default=0.02)

    @step
    def start(self):
        self.action = "retrain" if self.drift > 0.1 else "keep"
        self.next({"retrain": self.retrain, "keep": self.keep}, condition="action")

    @step
    def retrain(self):
        self.model_version = 2
        self.next(self.publish)

    @step
    def keep(self):
        self.model_version = 1
        self.next(self.publish)

    @step
    def publish(self):
        self.published = f"model-v{self.model_version}"
        self.next(self.end)

    @step
    def end(self):
        print("action", self.action, "published", self.published)


if __name__ == "__main__":
    ConditionalRetrainFlow()
