"""Metaflow docs, "Basic Configuration": a JSON config sets @timeout; the step reads self.config.

With myconfig.json's timeout of 1 second the start step times out (as the docs say it should);
with `--config config longer.json` (timeout 30) the run succeeds."""

import time

from metaflow import Config, FlowSpec, step, timeout


class TimeoutConfigFlow(FlowSpec):
    config = Config("config", default="myconfig.json")

    @timeout(seconds=config.timeout)
    @step
    def start(self):
        print(f"timing out after {self.config.timeout} seconds")
        time.sleep(2)
        print("success")
        self.next(self.end)

    @step
    def end(self):
        print("full config", self.config)


if __name__ == "__main__":
    TimeoutConfigFlow()
