"""Flow sources tests/test_airflow.py compiles and runs in Airflow (kept apart so the test module reads as tests)."""

JINJA = "{{ 7 * 7 }} {{ var.value.x }} {% raw %}"
JINJA_SOURCE = f'''import os

from flowc import FlowSpec, Parameter, environment, step


class JinjaFlow(FlowSpec):
    text = Parameter("text", default={JINJA!r}, help={JINJA!r})

    @environment(vars={{"MODE": {JINJA!r}}})
    @step
    def start(self):
        self.mode = os.environ["MODE"]
        self.seen = self.text
        self.next(self.end)

    @step
    def end(self):
        pass
'''
USAGE_SOURCE = '''from flowc import FlowSpec, JSONType, Parameter, retry, step


class UsageFlow(FlowSpec):
    config = Parameter("config", type=JSONType, default={})

    @retry(times=3, minutes_between_retries=0)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''
UNICODE_PROJECT_SOURCE = '''from flowc import FlowSpec, environment, project, step


@project(name="my_team")  # Metaflow's rule: a project name is [a-z0-9_]
class Flüß(FlowSpec):
    @environment(vars={"PRICE": "pay $$5 to $(KUBERNETES_SERVICE_HOST) ${HOME}"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''
