# expect: 7:19: self.next(...) takes steps as self.<step>, not 'end'
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    @step
    def start(self):
        self.next("end")

    @step
    def end(self):
        pass
