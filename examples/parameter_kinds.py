"""Metaflow's other Parameter shapes: a JSONType default written as text, multiple=True, is_flag=True and
separator=.  The runtime gives each the same value on every target (the text passes through unchanged)."""

from metaflow import FlowSpec, JSONType, Parameter, step


class ParameterKindsFlow(FlowSpec):
    layers = Parameter("layers", type=JSONType, default='{"sizes": [64, 32]}')  # arrives parsed
    tags = Parameter("tags", multiple=True, default=["red", "blue"])  # a tuple
    seeds = Parameter("seeds", multiple=True, type=int, default=[1, 2])
    dry_run = Parameter("dry-run", is_flag=True, help="a flag: False unless given")
    columns = Parameter("columns", default="id,name", separator=",")  # a list of str

    @step
    def start(self):
        self.summary = {
            "sizes": self.layers["sizes"],
            "tags": list(self.tags),
            "tags_is_tuple": isinstance(self.tags, tuple),
            "seed_total": sum(self.seeds),
            "dry_run": self.dry_run,
            "columns": self.columns,
        }
        self.next(self.end)

    @step
    def end(self):
        print(self.summary)
