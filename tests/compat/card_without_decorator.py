"""Metaflow's documented behaviour for `current.card` on a step without `@card`: the calls are ignored
with a warning, and the step runs on (library code that reports to a card is shared by steps with and
without one, as in real projects' helper modules)."""

from metaflow import FlowSpec, card, current, step
from metaflow.cards import Markdown


def report(message: str) -> None:
    current.card.append(Markdown(message))


class CardOptionalFlow(FlowSpec):
    @card
    @step
    def start(self):
        report("with a card")
        self.next(self.end)

    @step
    def end(self):
        report("without a card: ignored")
        print("end ran after current.card without @card")


if __name__ == "__main__":
    CardOptionalFlow()
