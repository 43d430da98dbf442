"""Metaflow's Config: a JSON file read when the flow compiles, its values in decorators and in steps.

Every target's output shows the resolved values (cpu 2, memory 8192, the 300 s timeout, the cron),
and each task gets the same values for `self.config` with its command (--config-values).
"""

from metaflow import Config, FlowSpec, Parameter, config_expr, environment, resources, schedule, step, timeout


@schedule(cron=config_expr("config.schedule.cron"))
class ConfigFlow(FlowSpec):
    config = Config("config", default="configs.json")
    rate = Parameter("rate", default=config.train.rate)

    @resources(**config.resources)
    @timeout(seconds=config.train.timeout)
    @environment(vars={"MODEL": config_expr("config.train.model")})
    @step
    def start(self):
        self.model = self.config.train.model
        self.next(self.end)

    @step
    def end(self):
        print(self.model, self.config["train"]["rate"], self.rate)
