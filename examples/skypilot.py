"""Two steps on any cloud through SkyPilot: a managed spot job that retries, and a reused GPU cluster."""

from flowc import FlowSpec, Parameter, resources, retry, skypilot, step

GIB = 1024


class SkyFlow(FlowSpec):
    rows = Parameter("rows", default=1000, help="rows to generate")

    @step
    def start(self):
        self.seeds = [1, 2, 3]
        self.next(self.featurize, foreach="seeds")

    # A managed job: spot instances, recovered by SkyPilot when preempted; @retry restarts it on errors.
    @skypilot(use_spot=True, cloud="aws", region="us-east-1")
    @resources(cpu=4, memory=16 * GIB, disk=64 * GIB)
    @retry(times=2)
    @step
    def featurize(self):
        self.features = [self.input * i for i in range(self.rows)]
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.total = sum(sum(i.features) for i in inputs)
        self.next(self.train)

    # A named cluster: every run reuses it (setup once, then `sky exec`), stopped after 30 idle minutes.
    @skypilot(cluster_name="flowc-train", accelerators="A10G", autostop_minutes=30)
    @resources(gpu=1, memory=24 * GIB)
    @step
    def train(self):
        self.score = self.total % 97
        self.next(self.end)

    @step
    def end(self):
        print("score", self.score)


if __name__ == "__main__":
    SkyFlow()
