"""Every decorator at least once, on a scheduled, project-scoped flow."""

from flowc import (
    FlowSpec,
    batch,
    catch,
    conda,
    environment,
    kubernetes,
    project,
    pypi,
    resources,
    retry,
    schedule,
    secrets,
    step,
    timeout,
)

GIB = 1024


@project(name="demo")
@schedule(cron="30 2 * * *", timezone="Europe/Berlin")
class DecoratedFlow(FlowSpec):
    @environment(vars={"MODE": "full", "THREADS": 4})
    @step
    def start(self):
        import os

        self.mode = os.environ.get("MODE", "unset")
        self.next(self.prepare, self.train)

    @batch(cpu=4, memory=16 * GIB, image="python:3.11")
    @resources(cpu=2, memory=8 * GIB)
    @retry(times=1)
    @step
    def prepare(self):
        self.rows = 1000
        self.next(self.join)

    @kubernetes(
        cpu=8,
        memory=32 * GIB,
        gpu=2,
        disk=100 * GIB,
        namespace="ml",
        service_account="trainer",
        node_selector={"pool": "gpu"},
        tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
    @secrets(sources=["db-credentials"])
    @pypi(packages={"scikit-learn": "1.5.0"}, python="3.11")
    @timeout(hours=2)
    @catch(var="train_error")
    @step
    def train(self):
        self.score = 0.9
        self.next(self.join)

    @conda(packages={"numpy": "2.1"})
    @step
    def join(self, inputs):
        self.merge_artifacts(inputs, exclude=["train_error"])
        self.next(self.end)

    @step
    def end(self):
        print(self.mode, self.rows, self.score)
