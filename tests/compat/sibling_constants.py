"""Constants imported from a sibling module of the flow (issue 14 item 1), as teams share resource
sizes and retry counts across flows.  Metaflow imports the module when it runs the flow, so the
decorators see its values; the step prints what "Scaling Out and Up" documents @resources sets
(https://docs.metaflow.org/scaling/remote-tasks/requesting-resources) via current-free artifacts."""

from compat_settings import FEATURE_COLUMNS, MEMORY_MB, RETRIES, TEAM, TRAIN_CPU
from metaflow import FlowSpec, Parameter, resources, retry, step


class SiblingConstantsFlow(FlowSpec):
    team = Parameter("team", default=TEAM)

    @step
    def start(self):
        self.columns = list(FEATURE_COLUMNS)
        self.next(self.train)

    @retry(times=RETRIES, minutes_between_retries=0)
    @resources(cpu=TRAIN_CPU, memory=MEMORY_MB)
    @step
    def train(self):
        self.model = {c: len(c) for c in self.columns}
        self.next(self.end)

    @step
    def end(self):
        print("team", self.team, "model", self.model)


if __name__ == "__main__":
    SiblingConstantsFlow()
