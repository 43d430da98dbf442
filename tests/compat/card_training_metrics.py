"""The shape of ML projects' training reports (Metaflow's docs, "Easy Custom Reports with Card
Components"): a foreach trains one model per learning rate, each task appends a Markdown heading and a
Table of its metrics to `current.card`; the join picks the best model and reports it on its own card."""

from metaflow import FlowSpec, card, current, step
from metaflow.cards import Markdown, Table

RATES = [0.01, 0.1, 0.5]


class TrainingReportFlow(FlowSpec):
    @step
    def start(self):
        self.rates = RATES
        self.next(self.train, foreach="rates")

    @card
    @step
    def train(self):
        self.rate = self.input
        self.loss = round(abs(self.rate - 0.1) + 0.05, 3)
        current.card.append(Markdown(f"## Learning rate {self.rate}"))
        current.card.append(Table([["loss", self.loss], ["epochs", 3]], headers=["metric", "value"]))
        self.next(self.join)

    @card(type="blank")
    @step
    def join(self, inputs):
        best = min(inputs, key=lambda i: i.loss)
        self.best_rate, self.best_loss = best.rate, best.loss
        current.card.append(Markdown(f"# Best model\n\nrate **{self.best_rate}**, loss {self.best_loss}"))
        current.card.append(Table([[i.rate, i.loss] for i in inputs], headers=["rate", "loss"]))
        self.next(self.end)

    @step
    def end(self):
        print("best rate", self.best_rate, "loss", self.best_loss)


if __name__ == "__main__":
    TrainingReportFlow()
