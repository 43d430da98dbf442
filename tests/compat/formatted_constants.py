"""f-strings and str.format of constants (issue 14 item 1): a Parameter default built with an
f-string from a sibling module's constants, an @environment value built with str.format.  The
Parameter docs (https://docs.metaflow.org/api/flowspec#parameters): the default is the value the
step sees when none is given on the command line."""

import os

from compat_settings import TEAM, VERSION
from metaflow import FlowSpec, Parameter, environment, step

BUCKET = "models"


class FormattedConstantsFlow(FlowSpec):
    model_path = Parameter("model-path", default=f"{BUCKET}/{TEAM}/v{VERSION}")

    @environment(vars={"REGISTRY": "registry/{}:{}".format(TEAM, VERSION)})
    @step
    def start(self):
        self.registry = os.environ["REGISTRY"]
        self.next(self.end)

    @step
    def end(self):
        print("path", self.model_path, "registry", self.registry)


if __name__ == "__main__":
    FormattedConstantsFlow()
