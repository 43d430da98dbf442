"""Parameters of every type, read-only inside steps."""

from flowc import FlowSpec, JSONType, Parameter, step

DEFAULT_ALPHA = 0.01


class ParameterFlow(FlowSpec):
    greeting = Parameter("greeting", default="world", help="who to greet")
    alpha = Parameter("alpha", type=float, default=DEFAULT_ALPHA, help="learning rate")
    epochs = Parameter("epochs", type=int, default=3)
    verbose = Parameter("verbose", type=bool, default=False)
    config = Parameter("config", type=JSONType, default={"layers": [64, 32]})

    @step
    def start(self):
        self.message = f"hello {self.greeting} {self.alpha}"
        self.next(self.end)

    @step
    def end(self):
        self.layers = self.config["layers"]
        print(self.message, self.epochs, self.verbose, self.layers)
