"""A repeatable option: Parameter(multiple=True) collects every `--region` given (click's
multiple option, which Metaflow's Parameter passes through to click,
https://docs.metaflow.org/api/flowspec#parameters: the value is a tuple, the default a list).
Each region becomes a branch of a foreach; the join collects their labels."""

from metaflow import FlowSpec, Parameter, step


class MultipleRegionsFlow(FlowSpec):
    regions = Parameter("region", multiple=True, default=["eu", "us"])
    days = Parameter("day", multiple=True, type=int, default=[1])

    @step
    def start(self):
        print("regions are a", type(self.regions).__name__)
        self.pairs = [(r, d) for r in self.regions for d in self.days]
        self.next(self.extract, foreach="pairs")

    @step
    def extract(self):
        region, day = self.input
        self.label = f"{region}-d{day}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.labels = sorted(i.label for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("extracted", self.labels)


if __name__ == "__main__":
    MultipleRegionsFlow()
