"""Class constants of a base class (issue 14 item 1): a shared base holding resource sizes that
its flows' decorators read, the shape of teams' "BaseFlow" classes
(https://docs.metaflow.org/metaflow/composing-flows/baseflow: a base class "can define shared
components ... but not steps themselves")."""

from metaflow import FlowSpec, Parameter, resources, step


class TeamDefaults(FlowSpec):
    CPU = 2
    MEMORY = 4096
    THRESHOLD = 0.5


class ScoringFlow(TeamDefaults):
    threshold = Parameter("threshold", default=TeamDefaults.THRESHOLD)

    @resources(cpu=TeamDefaults.CPU, memory=TeamDefaults.MEMORY)
    @step
    def start(self):
        scores = [0.2, 0.7, 0.9, 0.4]
        self.positives = [s for s in scores if s > self.threshold]
        self.next(self.end)

    @step
    def end(self):
        print("positives", self.positives, "memory", self.MEMORY)


if __name__ == "__main__":
    ScoringFlow()
