"""@trigger and @trigger_on_finish on Argo: an Argo Events Sensor that submits the flow's WorkflowTemplate.

The Sensor listens to two EventSources the cluster must have (docs/events.md
gives both manifests; flowc creates neither, they are shared by every flow):

- `flowc-events`, a webhook EventSource with the event `flowc`: `flowc event
  publish -t argo` POSTs `{"name": NAME, "payload": {...}}` to it; each
  @trigger event is a dependency filtered on `body.name`, and each mapped
  parameter reads `body.payload.<field>` (the template's default when the
  payload lacks it, as on the other targets).
- `flowc-workflows`, a resource EventSource on Workflows (UPDATE) with the event
  `workflows`: each @trigger_on_finish upstream is a dependency filtered on the
  Workflow's `workflow-template` label and `status.phase` Succeeded.  Chosen over
  an event published by the upstream's end step because it needs nothing in the
  upstream (which may not be a flowc flow) and its filters are in this manifest,
  testable here; the cost: a succeeded Workflow updated again (archived,
  relabelled) matches again, which docs/events.md says.

Several dependencies without `conditions` mean all of them (Argo Events'
default), the meaning @trigger(events=[...]) has on every target.  Plain dicts:
hera 7.1's events models type the trigger's `source.resource` as an encoded
string, not the object the Sensor CRD takes; the tests validate every other
field through hera's models.  Event names and payload fields reach `dataKey` and
filter values only after normalize_triggers.py held them to plain alphabets.
"""

from __future__ import annotations

from flowc.compiler.ir import FlowGraph
from flowc.compiler import project
from flowc.compiler.options import Options
from flowc.compiler.targets import argo_names as names
from flowc.contract.events import ARGO_EVENT_SOURCE

API_VERSION = "argoproj.io/v1alpha1"
ANNOTATION_FLOW = "flowc.dev/flow"  # as on the WorkflowTemplate (argo.py's ANNOTATION_PREFIX + "flow")
WEBHOOK_EVENT = "flowc"  # the event name inside the webhook EventSource
WORKFLOW_EVENT_SOURCE = "flowc-workflows"
WORKFLOW_EVENT = "workflows"
# gjson paths into the resource EventSource's body (the Workflow object); dots inside a key escaped.
TEMPLATE_LABEL_PATH = r"body.metadata.labels.workflows\.argoproj\.io/workflow-template"
PHASE_PATH = "body.status.phase"


def sensor_name(template_name: str) -> str:
    return template_name if len(template_name) + 7 > names.LABEL_MAX else f"{template_name}-sensor"


def sensor(flow: FlowGraph, options: Options, template_metadata: dict, defaults: dict[str, str | None]) -> dict:
    """The Sensor manifest for `flow`'s triggers (the flow has some), beside the WorkflowTemplate of `template_metadata`.

    `defaults`: each parameter's value in the template's arguments, the value used when the payload lacks its field.
    """
    template_name, namespace = template_metadata["name"], template_metadata.get("namespace")
    dependencies, parameters, arguments = [], [], []
    for i, event in enumerate(flow.triggers.events):
        dependency = f"event-{i}"
        dependencies.append(
            {
                "name": dependency,
                "eventSourceName": ARGO_EVENT_SOURCE,
                "eventName": WEBHOOK_EVENT,
                "filters": {"data": [{"path": "body.name", "type": "string", "value": [event.name]}]},
            }
        )
        for parameter_name, field in event.parameters:
            default = defaults[parameter_name]
            source = {"dependencyName": dependency, "dataKey": f"body.payload.{field}"}
            if default is not None:
                source["value"] = default
            parameters.append({"src": source, "dest": f"spec.arguments.parameters.{len(arguments)}.value"})
            arguments.append({"name": parameter_name, "value": default or ""})
    for i, upstream in enumerate(flow.triggers.finishes):
        # named as argo.py names the upstream's own template (project.upstream_name: the same branch)
        upstream_template = names.flow_resource_name(
            project.upstream_name(flow, upstream, options).replace(".", "-"), None, None
        )
        dependencies.append(
            {
                "name": f"finish-{i}",
                "eventSourceName": WORKFLOW_EVENT_SOURCE,
                "eventName": WORKFLOW_EVENT,
                "filters": {
                    "data": [
                        {"path": TEMPLATE_LABEL_PATH, "type": "string", "value": [upstream_template]},
                        {"path": PHASE_PATH, "type": "string", "value": ["Succeeded"]},
                    ]
                },
            }
        )
    workflow = {
        "apiVersion": API_VERSION,
        "kind": "Workflow",
        "metadata": {"generateName": f"{template_name}-"},
        "spec": {"workflowTemplateRef": {"name": template_name}},
    }
    if arguments:
        workflow["spec"]["arguments"] = {"parameters": arguments}
    submit = {"operation": "submit", "source": {"resource": workflow}}
    if parameters:
        submit["parameters"] = parameters
    metadata = {"name": sensor_name(template_name), "annotations": {ANNOTATION_FLOW: flow.name}}
    if namespace:
        metadata["namespace"] = namespace
    spec = {"dependencies": dependencies, "triggers": [{"template": {"name": "submit", "argoWorkflow": submit}}]}
    if options.service_account:  # the Sensor's pod submits Workflows: it needs that right (docs/events.md)
        spec["template"] = {"serviceAccountName": options.service_account}
    return {"apiVersion": API_VERSION, "kind": "Sensor", "metadata": metadata, "spec": spec}
