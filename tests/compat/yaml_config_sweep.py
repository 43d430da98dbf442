"""A hyper-parameter sweep driven by a YAML Config, the "Parsing Configs" docs' parser= string form
(https://docs.metaflow.org/metaflow/configuring-flows/parsing-configs: `parser="yaml.safe_load"`
names a function Metaflow calls on the file's text); the sweep's grid comes from the config,
its workers' sizes from `**cfg.worker` spread into @resources."""

from metaflow import Config, FlowSpec, resources, step


class YamlConfigSweepFlow(FlowSpec):
    sweep = Config("sweep", default="sweep.yaml", parser="yaml.safe_load")

    @step
    def start(self):
        self.rates = list(self.sweep.sweep.learning_rates)
        self.next(self.fit, foreach="rates")

    @resources(**sweep.worker)
    @step
    def fit(self):
        self.rate = self.input
        self.score = round(1 - abs(self.rate - 0.1), 3)
        self.next(self.pick)

    @step
    def pick(self, inputs):
        self.best = max((i.score, i.rate) for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("best", self.sweep.sweep.metric, self.best[0], "at lr", self.best[1])


if __name__ == "__main__":
    YamlConfigSweepFlow()
