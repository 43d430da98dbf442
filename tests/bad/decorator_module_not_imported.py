# expect: 5:6: @metaflow.batch is used but 'metaflow' is not imported; add `import metaflow`
from metaflow import FlowSpec, step

class F(FlowSpec):
    @metaflow.batch(cpu=2)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
