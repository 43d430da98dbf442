"""Started by the event `data.updated` once deployed; the payload's `table` and `rows` set two parameters."""

from flowc import FlowSpec, Parameter, step, trigger


@trigger(event={"name": "data.updated", "parameters": {"table": "table", "min_rows": "rows"}})
class TriggerEventFlow(FlowSpec):
    table = Parameter("table", default="events", help="the table that changed")
    min_rows = Parameter("min_rows", type=int, default=100)

    @step
    def start(self):
        self.summary = f"{self.table}:{self.min_rows}"
        self.next(self.end)

    @step
    def end(self):
        print("refreshed", self.summary)
