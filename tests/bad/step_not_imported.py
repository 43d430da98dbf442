# expect: 5:6: @step is used but not imported; add `from metaflow import step`
from metaflow import FlowSpec

class F(FlowSpec):
    @step
    def start(self):
        pass
