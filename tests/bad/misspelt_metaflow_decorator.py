# expect: 6:6: unknown decorator @retyr (did you mean
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter
from metaflow import retyr  # a misspelling is an error; an unknown extension name only warns

class F(FlowSpec):
    @retyr
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
