"""A Config with an inline default (`default_value=`, Metaflow's "Basic Configuration" docs:
https://docs.metaflow.org/metaflow/configuring-flows/basic-configuration -- a config needs no
file when it has a default value) used in @retry and @resources through config_expr, and a
file given with `--config limits other.json` replacing the inline values for one run."""

from metaflow import Config, FlowSpec, config_expr, resources, retry, step


class ConfigDefaultValueFlow(FlowSpec):
    limits = Config("limits", default_value={"retries": 1, "cpu": 1, "batch_size": 4})

    @retry(times=config_expr("limits.retries"), minutes_between_retries=0)
    @resources(cpu=config_expr("limits.cpu"))
    @step
    def start(self):
        items = list(range(10))
        self.batches = [items[i : i + self.limits.batch_size] for i in range(0, len(items), self.limits.batch_size)]
        self.next(self.end)

    @step
    def end(self):
        print("batches", len(self.batches), "of", self.limits.batch_size, "retries", self.limits.retries)


if __name__ == "__main__":
    ConfigDefaultValueFlow()
