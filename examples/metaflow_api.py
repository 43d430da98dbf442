"""A flow written against Metaflow's API compiles and runs unchanged."""

from metaflow import FlowSpec, Parameter, current, resources, step


class MetaflowApiFlow(FlowSpec):
    size = Parameter("size", default=4)

    @step
    def start(self):
        self.values = list(range(self.size))
        self.next(self.square, foreach="values")

    @resources(memory=1024)
    @step
    def square(self):
        self.result = self.input**2
        self.next(self.collect)

    @step
    def collect(self, inputs):
        self.results = [task.result for task in inputs]
        self.next(self.end)

    @step
    def end(self):
        print(current.flow_name, self.results)
