"""`**{...}` of constants in decorator arguments (issue 14 item 1): a literal dict spread into
@resources and a module-level dict imported from a sibling spread into @environment, whose
variables Metaflow documents as set in the task's environment
(https://docs.metaflow.org/api/step-decorators/environment)."""

import os

from compat_settings import ENV
from metaflow import FlowSpec, environment, resources, step

BASE_MEMORY = 1024


class ConstantKwargsFlow(FlowSpec):
    @resources(**{"cpu": 1, "memory": BASE_MEMORY * 2})
    @environment(vars={**ENV, "STAGE": "dev"})
    @step
    def start(self):
        self.env = {k: os.environ[k] for k in ("MODEL_FAMILY", "LOG_LEVEL", "STAGE")}
        self.next(self.end)

    @step
    def end(self):
        print("env", sorted(self.env.items()))


if __name__ == "__main__":
    ConstantKwargsFlow()
