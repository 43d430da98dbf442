"""The client inside a step, as real flows use it: the current run through Flow(...)[run_id] and
Run("Flow/run"), after namespace(None); get_metadata() and metaflow_version logged."""

from metaflow import Flow, FlowSpec, Run, current, get_metadata, metaflow_version, namespace, step


class ClientInStepFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [3, 4]
        self.next(self.end)

    @step
    def end(self):
        namespace(None)
        run = Flow(current.flow_name)[current.run_id]
        same = Run(f"{current.flow_name}/{current.run_id}")
        self.total = sum(run["start"].task.data.rows)
        print("total", self.total, "same run", same.pathspec == run.pathspec)
        print("metadata", get_metadata().split("@")[0], "version", metaflow_version.get_version().startswith("flowc"))


if __name__ == "__main__":
    ClientInStepFlow()
