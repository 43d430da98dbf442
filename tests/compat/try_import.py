"""Imports guarded with try/except ImportError (issue 14 item 10), the shape of flows that also
import as plain modules where Metaflow is absent (tests, notebooks).  With Metaflow present the
`try` branch binds the real names, so the flow is an ordinary FlowSpec: @retry and Parameter
keep their documented meaning
(https://docs.metaflow.org/api/step-decorators/retry)."""

try:
    from metaflow import FlowSpec, Parameter, current, retry, step
except ImportError:  # pragma: no cover - only where metaflow is not installed
    FlowSpec = object
    Parameter = current = retry = step = None

try:
    import numpy as np  # optional speed-up; the flow works without it
except ImportError:
    np = None


class GuardedImportFlow(FlowSpec):
    window = Parameter("window", type=int, default=3)

    @step
    def start(self):
        series = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        self.moving = [sum(series[i : i + self.window]) / self.window for i in range(len(series) - self.window + 1)]
        self.next(self.end)

    @retry(times=1, minutes_between_retries=0)
    @step
    def end(self):
        print("moving average", self.moving, "in", current.flow_name)


if __name__ == "__main__":
    GuardedImportFlow()
