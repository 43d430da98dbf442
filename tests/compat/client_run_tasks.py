"""The client inside a step (issue 14 item 8), the Client API docs' shapes
(https://docs.metaflow.org/metaflow/client): after `namespace(None)`, the end step opens its own
run with `Flow(current.flow_name)[current.run_id]`, walks a step's tasks and reads their
artifacts -- a report step that summarises a foreach without a join carrying every value."""

from metaflow import Flow, FlowSpec, current, namespace, step


class ClientRunTasksFlow(FlowSpec):
    @step
    def start(self):
        self.partitions = ["2024-01", "2024-02", "2024-03"]
        self.next(self.count_rows, foreach="partitions")

    @step
    def count_rows(self):
        self.rows = len(self.input) * 10 + int(self.input[-1])
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        namespace(None)
        run = Flow(current.flow_name)[current.run_id]
        rows = sorted(task.data.rows for task in run["count_rows"])
        print("tasks", len(rows), "rows", rows, "run id matches", run.id == current.run_id)


if __name__ == "__main__":
    ClientRunTasksFlow()
