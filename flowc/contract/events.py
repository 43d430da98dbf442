"""Where a flowc event lives on each orchestrator: the names the compiler emits and `flowc event publish` sends to.

Standard library only.  Event names and flow names reaching here have been
checked by the compiler (flowc/compiler/normalize_triggers.py) or by the CLI
with the same rule; a flow's own deployment name (any @project text, any
Python identifier) is percent-encoded into its Asset URI instead.
"""

from __future__ import annotations

from urllib.parse import quote

# EventBridge: flowc's custom events carry this source; their detail-type is the event name.
EVENTBRIDGE_SOURCE = "flowc"
# The execution input key a @trigger rule puts the event's detail under ({"flowc_event": DETAIL}).
SFN_EVENT_INPUT = "flowc_event"
# Step Functions' own status-change events (what @trigger_on_finish listens to there).
SFN_SOURCE = "aws.states"
SFN_STATUS_CHANGE = "Step Functions Execution Status Change"
SFN_SUCCEEDED = "SUCCEEDED"
# Airflow Assets: a custom scheme, so no provider's URI normalizer claims (and rewrites) it.
ASSET_SCHEME = "flowc"
# Argo Events: the webhook EventSource flowc's Sensors name, and the one event name its events are sent as.
ARGO_EVENT_SOURCE = "flowc-events"


def event_asset_uri(event: str) -> str:
    """The Airflow Asset that stands for the custom event `event`."""
    return f"{ASSET_SCHEME}://events/{quote(event, safe='')}"


def flow_asset_uri(deployment: str) -> str:
    """The Airflow Asset a deployed flow's end task updates when a run succeeds (its DAG id's name:
    the flow, or with @project `project.branch.Flow`)."""
    return f"{ASSET_SCHEME}://flows/{quote(deployment, safe='')}"
