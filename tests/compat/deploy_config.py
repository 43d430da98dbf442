"""A deployment config in YAML, the shape of projects that keep one config per environment:
config_expr() for the flow decorators, ** of a config section for @resources, a Parameter
whose default comes from the config, and the config read in a foreach body."""

from metaflow import Config, FlowSpec, Parameter, config_expr, project, resources, schedule, step


@project(name=config_expr("deploy.project"))
@schedule(cron=config_expr("deploy.schedule.cron"))
class DeployConfigFlow(FlowSpec):
    deploy = Config("deploy", default="deploy.yaml", parser="yaml.safe_load")
    region = Parameter("region", default=deploy.defaults.region)

    @step
    def start(self):
        self.shards = list(range(self.deploy.shards))
        self.next(self.work, foreach="shards")

    @resources(**deploy.pod)
    @step
    def work(self):
        self.out = f"{self.deploy.project}:{self.region}:{self.input}"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.outs = sorted(i.out for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("outs", self.outs)


if __name__ == "__main__":
    DeployConfigFlow()
