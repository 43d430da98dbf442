"""Metaflow docs, "Parsing Configs": a TOML config named with parser="tomllib.loads" sets @resources."""

import pprint

from metaflow import Config, FlowSpec, resources, step


class TomlConfigFlow(FlowSpec):
    config = Config("config", default="myconfig.toml", parser="tomllib.loads")

    @resources(cpu=config.resources.cpu)
    @step
    def start(self):
        print("Config loaded:")
        pprint.pp(self.config.to_dict())
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TomlConfigFlow()
