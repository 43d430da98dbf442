"""Metaflow's "Basic Configuration" docs (https://docs.metaflow.org/metaflow/configuring-flows/basic-configuration):
a JSON Config read before the run, `config_expr("cfg.train.cpu")` in a decorator, `self.cfg.x`
in steps (attribute access into nested sections), and `--config cfg other.json` replacing the
file for one run."""

from metaflow import Config, FlowSpec, config_expr, resources, step


class JsonConfigTrainFlow(FlowSpec):
    cfg = Config("cfg", default="train_config.json")

    @step
    def start(self):
        self.rows = list(range(self.cfg.data.rows))
        self.next(self.train)

    @resources(cpu=config_expr("cfg.train.cpu"), memory=config_expr("cfg.train.memory"))
    @step
    def train(self):
        weight = 0.0
        for _ in range(self.cfg.train.epochs):
            weight += self.cfg.train.lr * (1 - weight)
        self.weight = round(weight, 4)
        self.next(self.end)

    @step
    def end(self):
        print("rows", len(self.rows), "epochs", self.cfg.train.epochs, "weight", self.weight)


if __name__ == "__main__":
    JsonConfigTrainFlow()
