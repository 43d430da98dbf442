"""Reading an earlier run of the same flow from a step (Flow(...).latest_successful_run), the shape
of flows that continue from their last result; the first run finds none."""

from metaflow import Flow, FlowSpec, current, step


class PreviousRunFlow(FlowSpec):
    @step
    def start(self):
        last = Flow(current.flow_name).latest_successful_run
        self.count = (last.data.count + 1) if last is not None else 1
        self.next(self.end)

    @step
    def end(self):
        print("count", self.count)


if __name__ == "__main__":
    PreviousRunFlow()
