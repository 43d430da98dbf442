"""Metaflow's docs, "Visualizing Results" (the default card): `@card` on a step that sets a few artifacts,
viewed with `card view`; here `flowc card RUN/start`.  The card holds the artifacts and the DAG."""

from metaflow import FlowSpec, Parameter, card, step


class DefaultCardFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)

    @card
    @step
    def start(self):
        self.example_dict = {"first_key": "first_value", "second_key": 2}
        self.example_array = [1, 2, 3, 4]
        self.scaled = [self.alpha * x for x in self.example_array]
        self.next(self.end)

    @step
    def end(self):
        print("scaled", self.scaled, "keys", sorted(self.example_dict))


if __name__ == "__main__":
    DefaultCardFlow()
