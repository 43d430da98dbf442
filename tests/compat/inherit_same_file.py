"""Flow inheritance within one file (issue 14 item 4): a generic ETL flow and a specialised one
that overrides one step and adds a Parameter; the base's Parameter is inherited (Python class
inheritance, which Metaflow follows: the flow is the class passed to the entry point, the most
derived one).  Running the file runs DedupEtlFlow (the shape of https://docs.metaflow.org/metaflow/composing-flows/baseflow,
with steps in the base)."""

from metaflow import FlowSpec, Parameter, step


class EtlFlow(FlowSpec):
    source = Parameter("source", default="events")

    @step
    def start(self):
        self.rows = [("a", 1), ("b", 2), ("a", 1), ("c", 3)]
        self.next(self.transform)

    @step
    def transform(self):
        self.clean = list(self.rows)
        self.next(self.end)

    @step
    def end(self):
        print(type(self).__name__, "loaded", len(self.clean), "rows from", self.source)


class DedupEtlFlow(EtlFlow):
    keep = Parameter("keep", default="first")

    @step
    def transform(self):
        seen = {}
        for key, value in self.rows:
            if self.keep == "last" or key not in seen:
                seen[key] = value
        self.clean = sorted(seen.items())
        self.next(self.end)


if __name__ == "__main__":
    DedupEtlFlow()
