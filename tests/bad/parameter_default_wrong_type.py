# expect: 5:52: parameter 'epochs': default 'many' is not of type int
from flowc import FlowSpec, step, resources, retry, timeout, batch, kubernetes, environment, Parameter

class F(FlowSpec):
    epochs = Parameter("epochs", type=int, default="many")

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
