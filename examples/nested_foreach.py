"""Nested foreach: a grid of (region, month) cells, summed per region and overall."""

from flowc import FlowSpec, step


class NestedForeachFlow(FlowSpec):
    @step
    def start(self):
        self.regions = ["north", "south"]
        self.next(self.region, foreach="regions")

    @step
    def region(self):
        self.region_name = self.input
        self.months = [1, 2, 3]
        self.next(self.cell, foreach="months")

    @step
    def cell(self):
        self.sales = len(self.region_name) * self.input * 10
        self.next(self.region_total)

    @step
    def region_total(self, inputs):
        self.region_name = inputs[0].region_name
        self.total = sum(task.sales for task in inputs)
        self.next(self.grand_total)

    @step
    def grand_total(self, inputs):
        self.totals = {task.region_name: task.total for task in inputs}
        self.next(self.end)

    @step
    def end(self):
        print(self.totals)
