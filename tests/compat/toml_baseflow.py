"""Metaflow's "The BaseFlow Pattern" (https://docs.metaflow.org/metaflow/composing-flows/baseflow):
a project.toml Config on a base class sets @project and @schedule through config_expr, the
@resources limits of a derived flow's step through config_expr (the base's Config is not a name
in the derived class body), and the flow deriving from the base inherits
the Config and a Parameter; `current.project_name` is the config's name."""

from metaflow import Config, FlowSpec, Parameter, config_expr, current, project, resources, schedule, step


@project(name=config_expr("project.name"))
@schedule(cron=config_expr("project.schedule"))
class ProjectBaseFlow(FlowSpec):
    project = Config("project", default="project.toml", parser="tomllib.loads")
    sample = Parameter("sample", default=3)


class DailyMetricsFlow(ProjectBaseFlow):
    @resources(cpu=config_expr("project.limits.cpu"), memory=config_expr("project.limits.memory"))
    @step
    def start(self):
        self.values = [i * i for i in range(self.sample)]
        self.next(self.end)

    @step
    def end(self):
        print("project", current.project_name, "values", self.values, "cpu", self.project.limits.cpu)


if __name__ == "__main__":
    DailyMetricsFlow()
