"""`flowc event publish NAME --payload JSON`: publish one flowc event where the deployed triggers listen.

- step-functions: one PutEvents entry on the default bus (source `flowc`,
  detail-type NAME, detail the payload), what the rules of
  flowc/deploy/step_functions_events.py match;
- airflow: one asset event on the Asset `flowc://events/NAME` through the REST
  API (`POST /api/v2/assets/events`, the payload as its `extra`); Airflow
  knows an Asset once a parsed DAG names it, so publishing before any
  triggered DAG is deployed is refused with that cause;
- argo: one POST of `{"name": NAME, "payload": PAYLOAD}` to the webhook
  EventSource the Sensors listen to (docs/events.md shows it).

The name is held to the compiler's rule for event names; the payload must be a
JSON object (its fields are what @trigger maps to parameters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flowc.contract.events import EVENTBRIDGE_SOURCE, event_asset_uri
from flowc.deploy import DeployError

TARGETS = ("argo", "step-functions", "airflow")
HTTP_TIMEOUT_S = 30


@dataclass(frozen=True)
class EventRequest:
    name: str
    payload: dict
    target: str
    airflow_url: str | None = None
    airflow_token: str | None = None
    airflow_user: str | None = None
    airflow_password: str | None = None
    argo_events_url: str | None = None


def parse_event(name: str, payload_text: str) -> tuple[str, dict]:
    """The checked name and payload; DeployError naming what is wrong."""
    # The compiler's rule for event names: a name it would refuse in @trigger can never match a trigger.
    from flowc.compiler.normalize_triggers import EVENT_NAME

    if not EVENT_NAME.fullmatch(name):
        raise DeployError(
            f"event name {name!r} must be 1-128 of letters, digits and . _ - (starting with a letter or digit)"
        )
    try:
        payload = json.loads(payload_text)
    except ValueError as exc:
        raise DeployError(f"--payload is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise DeployError(f"--payload must be a JSON object, got {payload_text!r}")
    return name, payload


def publish(request: EventRequest) -> str:
    """Publish the event; a line saying where it went."""
    if request.target == "step-functions":
        return _publish_eventbridge(request)
    if request.target == "airflow":
        return _publish_airflow(request)
    return _publish_argo(request)


def _publish_eventbridge(request: EventRequest) -> str:
    # boto3 only for this target.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    entry = {"Source": EVENTBRIDGE_SOURCE, "DetailType": request.name, "Detail": json.dumps(request.payload)}
    try:
        answer = boto3.client("events").put_events(Entries=[entry])
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"events PutEvents failed: {exc}") from None
    result = answer["Entries"][0]
    if answer.get("FailedEntryCount") or "EventId" not in result:
        raise DeployError(f"EventBridge refused the event: {result.get('ErrorCode')}: {result.get('ErrorMessage')}")
    return f"published {request.name} to EventBridge: event {result['EventId']}"


def _publish_airflow(request: EventRequest) -> str:
    from urllib.parse import quote

    if not request.airflow_url:
        raise DeployError("airflow needs --airflow-url http(s)://HOST:PORT (the api-server)")
    base = request.airflow_url.rstrip("/")
    token = request.airflow_token or _airflow_token(base, request)
    uri = event_asset_uri(request.name)
    found = _http_json("GET", f"{base}/api/v2/assets?uri_pattern={quote(uri, safe='')}", None, token)
    assets = [a for a in found.get("assets", []) if a.get("uri") == uri]
    if not assets:
        raise DeployError(
            f"Airflow has no Asset {uri}: it knows one once a deployed DAG triggers on it; deploy a flow with "
            f"@trigger(event={request.name!r}) first"
        )
    event = _http_json(
        "POST", f"{base}/api/v2/assets/events", {"asset_id": assets[0]["id"], "extra": request.payload}, token
    )
    return f"published {request.name} to Airflow: asset event {event.get('id')} on {uri}"


def _airflow_token(base: str, request: EventRequest) -> str:
    if not (request.airflow_user and request.airflow_password):
        raise DeployError(
            "airflow needs a token (AIRFLOW_TOKEN) or a user and password (FLOWC_AIRFLOW_USER, FLOWC_AIRFLOW_PASSWORD)"
        )
    answer = _http_json(
        "POST", f"{base}/auth/token", {"username": request.airflow_user, "password": request.airflow_password}, None
    )
    if "access_token" not in answer:
        raise DeployError(f"Airflow's /auth/token gave no access_token: {answer}")
    return answer["access_token"]


def _publish_argo(request: EventRequest) -> str:
    if not request.argo_events_url:
        raise DeployError("argo needs --argo-events-url: the webhook EventSource's URL (docs/events.md)")
    _http_json(
        "POST", request.argo_events_url, {"name": request.name, "payload": request.payload}, None, expect_json=False
    )
    return f"published {request.name} to {request.argo_events_url}"


def _http_json(method: str, url: str, body, token: str | None, expect_json: bool = True) -> dict:
    """One HTTP call with the standard library; DeployError naming the status and the server's message."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise DeployError(f"{url!r} needs a scheme: http(s)://HOST:PORT")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    call = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(call, timeout=HTTP_TIMEOUT_S) as response:
            text = response.read()
    except urllib.error.HTTPError as exc:
        raise DeployError(
            f"{method} {url} failed: HTTP {exc.code}: {exc.read()[:300].decode(errors='replace')}"
        ) from None
    except OSError as exc:
        raise DeployError(f"{method} {url} failed: {exc}") from None
    if not expect_json:
        return {}
    try:
        return json.loads(text or b"{}")
    except ValueError:
        raise DeployError(f"{method} {url} answered with no JSON: {text[:200]!r}") from None
