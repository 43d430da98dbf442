# expect: 9:6: @retry is used but not imported; add `from metaflow import retry`
from metaflow import FlowSpec, step

class F(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @retry(times=2)
    @step
    def end(self):
        pass
