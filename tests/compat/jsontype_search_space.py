"""A search space passed as JSON: Parameter(type=JSONType, default='<json text>'), Metaflow's
documented way to give structured input (https://docs.metaflow.org/metaflow/basics#advanced-parameters:
"you can specify a parameter as JSON ... the value is parsed into a Python object").  The default
text arrives parsed; `--param space=...` replaces it with another JSON document."""

from metaflow import FlowSpec, JSONType, Parameter, step


class SearchSpaceFlow(FlowSpec):
    space = Parameter("space", type=JSONType, default='{"model": "ridge", "alpha": [0.1, 1.0, 10.0]}')
    weights = Parameter("weights", type=JSONType, default="[0.5, 0.3, 0.2]")

    @step
    def start(self):
        self.candidates = [f"{self.space['model']}(alpha={a})" for a in self.space["alpha"]]
        self.total_weight = round(sum(self.weights), 6)
        self.next(self.end)

    @step
    def end(self):
        print("candidates", self.candidates, "weights sum", self.total_weight, type(self.space).__name__)


if __name__ == "__main__":
    SearchSpaceFlow()
