"""@project as "Coordinating Larger Metaflow Projects" documents it
(https://docs.metaflow.org/production/coordinating-larger-metaflow-projects): every run belongs
to a branch -- `user.<name>` by default, `test.<branch>` with `--branch`, `prod` with
`--production` -- and `current` exposes project_name, branch_name, is_user_branch,
is_production and project_flow_name (`project.branch.FlowName`)."""

from metaflow import FlowSpec, current, project, step


@project(name="fraud")
class FraudModelFlow(FlowSpec):
    @step
    def start(self):
        self.model_key = f"models/{current.branch_name}/latest"
        self.next(self.end)

    @step
    def end(self):
        print("project", current.project_name, "branch", current.branch_name)
        print("user branch", current.is_user_branch, "production", current.is_production)
        print("flow name", current.project_flow_name, "key", self.model_key)


if __name__ == "__main__":
    FraudModelFlow()
