"""The `current` object's task fields as "Inspecting Flows and Results" and the `current` API
reference document them (https://docs.metaflow.org/api/current): flow_name, run_id, step_name,
task_id, pathspec, username, tags, `current.get(name, default)`, and `current.parallel` outside
@parallel (a single node: num_nodes 1, node_index 0)."""

from metaflow import FlowSpec, current, step


class CurrentFieldsFlow(FlowSpec):
    @step
    def start(self):
        self.pathspec_ok = current.pathspec == f"{current.flow_name}/{current.run_id}/start/{current.task_id}"
        self.user_known = isinstance(current.username, str) and bool(current.username)
        self.shards = [0, 1]
        self.next(self.fan, foreach="shards")

    @step
    def fan(self):
        par = current.parallel
        self.single_node = (par.num_nodes, par.node_index)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.nodes = sorted({i.single_node for i in inputs})
        self.merge_artifacts(inputs, exclude=["single_node"])
        self.next(self.end)

    @step
    def end(self):
        print("step", current.step_name, "flow", current.flow_name, "pathspec ok", self.pathspec_ok)
        print("nodes", self.nodes, "user known", self.user_known)
        print("get missing", current.get("no_such_field", "fallback"), "get step", current.get("step_name"))
        print("tags is a collection", isinstance(current.tags, (set, frozenset, list, tuple)))


if __name__ == "__main__":
    CurrentFieldsFlow()
