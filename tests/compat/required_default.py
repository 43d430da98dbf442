"""A Parameter with required=True and a default, as older projects declare their key inputs.
Metaflow's Parameter docs (https://docs.metaflow.org/api/flowspec#parameters): "required: Require
that the user specified a value for the parameter. Note that if a default is provided, the
required flag is ignored" -- so the run without the option uses the default, and a value given
on the command line replaces it."""

from metaflow import FlowSpec, Parameter, step


class RequiredDefaultFlow(FlowSpec):
    dataset = Parameter("dataset", required=True, default="daily_events", help="table to score")
    limit = Parameter("limit", type=int, required=True, default=100)

    @step
    def start(self):
        self.query = f"SELECT * FROM {self.dataset} LIMIT {self.limit}"
        self.next(self.end)

    @step
    def end(self):
        print("query", self.query)


if __name__ == "__main__":
    RequiredDefaultFlow()
