"""Class constants (issue 14 item 1): a team base class holding shared values that its flows read
as `self.X` in steps, and the flow's own class constants in its decorators and Parameter default
(names bound in the class body, as Python resolves them there).  The BaseFlow docs
(https://docs.metaflow.org/metaflow/composing-flows/baseflow): a base class "can define shared
components ... but not steps themselves"."""

from metaflow import FlowSpec, Parameter, resources, step


class TeamDefaults(FlowSpec):
    THRESHOLD = 0.5
    LABELS = ("negative", "positive")


class ClassConstantsFlow(TeamDefaults):
    CPU = 2
    MEMORY = 4096
    MIN_SCORE = 0.1

    min_score = Parameter("min-score", default=MIN_SCORE)

    @resources(cpu=CPU, memory=MEMORY)
    @step
    def start(self):
        scores = [0.05, 0.2, 0.7, 0.9, 0.4]
        kept = [s for s in scores if s >= self.min_score]
        self.labels = [self.LABELS[s > self.THRESHOLD] for s in kept]
        self.next(self.end)

    @step
    def end(self):
        print("labels", self.labels, "memory", self.MEMORY)


if __name__ == "__main__":
    ClassConstantsFlow()
