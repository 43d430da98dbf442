"""A boolean flag and a separated list, the Parameter arguments Metaflow documents in its
Parameter reference (https://docs.metaflow.org/api/flowspec#parameters): `is_flag=True` makes
`--full-refresh` a switch (False when absent), `separator=","` splits the string value -- the
default included -- into a list of strings."""

from metaflow import FlowSpec, Parameter, step


class FlagAndSeparatorFlow(FlowSpec):
    full_refresh = Parameter("full-refresh", is_flag=True, help="rebuild every partition")
    tables = Parameter("tables", default="users,orders,events", separator=",")

    @step
    def start(self):
        self.mode = "full" if self.full_refresh else "incremental"
        self.next(self.end)

    @step
    def end(self):
        print("mode", self.mode, "tables", list(self.tables))


if __name__ == "__main__":
    FlagAndSeparatorFlow()
