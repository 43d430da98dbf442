"""A Vega-Lite chart on a card (Metaflow's VegaChart component), as dashboards in real projects build
it from a dict spec; flowc's page loads no script, so it shows the chart's data as a table (docs/cards.md)."""

from metaflow import FlowSpec, card, current, step
from metaflow.cards import VegaChart


class VegaCardFlow(FlowSpec):
    @card(type="blank", id="chart")
    @step
    def start(self):
        self.points = [{"epoch": e, "loss": round(1 / (e + 1), 3)} for e in range(5)]
        spec = {
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "title": "training loss",
            "data": {"values": self.points},
            "mark": "line",
            "encoding": {"x": {"field": "epoch"}, "y": {"field": "loss"}},
        }
        current.card["chart"].append(VegaChart(spec))
        self.next(self.end)

    @step
    def end(self):
        print("last loss", self.points[-1]["loss"])


if __name__ == "__main__":
    VegaCardFlow()
