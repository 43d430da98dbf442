"""A stand-in for the Kubernetes API server (and its kubelet) on 127.0.0.1, for the real `kubernetes` client.

What it stands in for: the API calls flowc's local runner and Airflow's
KubernetesPodOperator make: Jobs (batch/v1: create, read, read status, delete),
Pods (v1: create, read, list by label selector, delete, log with and without
`follow`), over plain HTTP, through a kubeconfig that `kubeconfig(path)` writes.

What a pod does here: its container's `command` + `args` run as a local
process, an argv list (never a shell), in a fresh folder, after the kubelet's
expansion (`$(VAR)` from the container's env, `$$` -> `$`), with `base_env`
(what the image gives: PATH with a `python`, credentials for S3) plus the
container's `env` and the keys of each Secret named in `envFrom` (Secrets are
given to the stand-in; a missing one leaves the pod waiting in
CreateContainerConfigError, as the kubelet does).  Its stdout and stderr are
the pod's log.  A Job makes one pod labelled `job-name`; the Job succeeds or
fails with it (backoffLimit is not applied: one pod per Job), and
`activeDeadlineSeconds` kills it with the Job condition DeadlineExceeded.  An
image whose name contains "unpullable" leaves the pod waiting in ErrImagePull.
Deleting a Job or a pod kills its process group and records the call.

What it does not implement: scheduling (node selectors, tolerations, service
accounts, resources are kept in the manifest, not enforced), watches,
patches, events, other resources, volumes (the shared-memory volume is
accepted and ignored), authentication (any token passes), pagination.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

JOBS = re.compile(r"^/apis/batch/v1/namespaces/([^/]+)/jobs(?:/([^/]+))?(/status)?$")
PODS = re.compile(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+))?(/log|/status)?$")
STAMP = "2026-01-01T00:00:00Z"


def kubelet_expand(text: str, env: dict) -> str:
    """The kubelet's expansion of command, args and env values: `$$` -> `$`, `$(NAME)` -> its value when set."""

    def one(match):
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", one, text)


def selector_matches(selector: str, labels: dict) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class _Pod:
    def __init__(self, manifest: dict):
        self.manifest = manifest
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.waiting: tuple[str, str] | None = None
        self.exit_code: int | None = None
        self.reason: str | None = None
        self.done = threading.Event()
        self.lock = threading.Lock()

    @property
    def container(self) -> dict:
        return self.manifest["spec"]["containers"][0]

    def phase(self) -> str:
        if self.exit_code is not None:
            return "Succeeded" if self.exit_code == 0 else "Failed"
        return "Pending" if self.process is None else "Running"

    def as_json(self) -> dict:
        status = {"name": self.container["name"], "image": self.container.get("image", ""), "imageID": ""}
        status.update(ready=self.phase() == "Running", restartCount=0)
        if self.waiting:
            status["state"] = {"waiting": {"reason": self.waiting[0], "message": self.waiting[1]}}
        elif self.exit_code is not None:
            reason = self.reason or ("Completed" if self.exit_code == 0 else "Error")
            status["state"] = {"terminated": {"exitCode": self.exit_code, "reason": reason}}
        else:
            status["state"] = {"running": {"startedAt": STAMP}}
        return dict(self.manifest, status={"phase": self.phase(), "containerStatuses": [status]})


class KubernetesStandIn:
    """The server; `calls` records (verb, path) of every request, `deleted` the Jobs and pods deleted."""

    def __init__(self, base_env: dict, secrets: dict | None = None):
        self.base_env = dict(base_env)
        self.secrets = secrets or {}  # (namespace, name) -> {key: value}
        self.jobs: dict[tuple[str, str], dict] = {}
        self.pods: dict[tuple[str, str], _Pod] = {}
        self.calls: list[tuple[str, str]] = []
        self.deleted: list[tuple[str, str, str]] = []  # (kind, namespace, name)
        self.created_pods: list[dict] = []  # every pod manifest, kept after its pod is deleted
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        for pod in list(self.pods.values()):
            _kill(pod)

    def kubeconfig(self, path) -> str:
        """Write a kubeconfig whose current context is this server; returns its path."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "standin", "cluster": {"server": self.url}}],
            "users": [{"name": "standin", "user": {"token": "standin"}}],
            "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin"}}],
            "current-context": "standin",
        }
        with open(path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        return str(path)

    def running(self) -> list[str]:
        """Names of the pods whose process is still alive."""
        return [name for (_, name), p in self.pods.items() if p.process is not None and p.process.poll() is None]

    def job_manifests(self) -> list[dict]:
        return [job["manifest"] for job in self.jobs.values()]

    # -- objects ---------------------------------------------------------------------

    def create_pod(self, namespace: str, manifest: dict, owner: tuple[str, str] | None = None) -> _Pod:
        metadata = manifest.setdefault("metadata", {})
        if "name" not in metadata:
            metadata["name"] = metadata.get("generateName", "pod-") + uuid.uuid4().hex[:5]
        metadata.update(namespace=namespace, uid=str(uuid.uuid4()), creationTimestamp=STAMP)
        pod = _Pod(manifest)
        with self.lock:
            self.pods[(namespace, metadata["name"])] = pod
            self.created_pods.append(manifest)
        self._start(pod, namespace, owner)
        return pod

    def create_job(self, namespace: str, manifest: dict) -> dict:
        name = manifest["metadata"]["name"]
        manifest["metadata"].update(namespace=namespace, uid=str(uuid.uuid4()), creationTimestamp=STAMP)
        job = {"manifest": manifest, "pod": None, "deadline_exceeded": False}
        with self.lock:
            self.jobs[(namespace, name)] = job
        template = json.loads(json.dumps(manifest["spec"]["template"]))
        labels = dict(template.get("metadata", {}).get("labels") or {})
        labels.update({"job-name": name, "batch.kubernetes.io/job-name": name})
        template.setdefault("metadata", {})["labels"] = labels
        template["metadata"]["name"] = f"{name}-{uuid.uuid4().hex[:5]}"
        job["pod"] = self.create_pod(namespace, {"apiVersion": "v1", "kind": "Pod", **template}, (namespace, name))
        return self.job_json(namespace, name)

    def job_json(self, namespace: str, name: str) -> dict:
        job = self.jobs[(namespace, name)]
        pod: _Pod = job["pod"]
        status: dict = {"startTime": STAMP}
        if job["deadline_exceeded"]:
            status.update(failed=1, conditions=[{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}])
        elif pod.exit_code == 0:
            status.update(succeeded=1, conditions=[{"type": "Complete", "status": "True"}])
        elif pod.exit_code is not None:
            status.update(failed=1, conditions=[{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}])
        else:
            status["active"] = 1
        return dict(job["manifest"], status=status)

    def delete(self, kind: str, namespace: str, name: str) -> bool:
        with self.lock:
            if kind == "job":
                job = self.jobs.pop((namespace, name), None)
                pod = job["pod"] if job else None
                if pod is not None:
                    self.pods.pop((namespace, pod.manifest["metadata"]["name"]), None)
            else:
                job, pod = None, self.pods.pop((namespace, name), None)
        if job is None and pod is None:
            return False
        self.deleted.append((kind, namespace, name))
        if pod is not None:
            _kill(pod)
        return True

    # -- a pod's process --------------------------------------------------------------

    def _start(self, pod: _Pod, namespace: str, owner) -> None:
        container = pod.container
        if "unpullable" in container.get("image", ""):
            pod.waiting = ("ErrImagePull", f"failed to pull image {container['image']!r}: not found")
            return
        env = dict(self.base_env)
        for source in container.get("envFrom") or []:
            secret = (source.get("secretRef") or {}).get("name")
            if (namespace, secret) not in self.secrets:
                pod.waiting = ("CreateContainerConfigError", f'secret "{secret}" not found')
                return
            env.update(self.secrets[(namespace, secret)])
        for variable in container.get("env") or []:
            env[variable["name"]] = kubelet_expand(variable.get("value", ""), env)
        argv = [kubelet_expand(a, env) for a in (container.get("command") or []) + (container.get("args") or [])]
        pod.process = subprocess.Popen(
            argv,
            cwd=tempfile.mkdtemp(prefix="pod-"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = self.jobs[owner]["manifest"]["spec"].get("activeDeadlineSeconds") if owner else None
        threading.Thread(target=self._follow, args=(pod, owner, deadline), daemon=True).start()

    def _follow(self, pod: _Pod, owner, deadline) -> None:
        timer = None
        if deadline:

            def overdue():
                job = self.jobs.get(owner)
                if job is not None and pod.exit_code is None:
                    job["deadline_exceeded"] = True
                _kill(pod)

            timer = threading.Timer(deadline, overdue)
            timer.daemon = True
            timer.start()
        for raw in iter(pod.process.stdout.readline, b""):
            with pod.lock:
                pod.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
        code = pod.process.wait()
        if timer is not None:
            timer.cancel()
        pod.exit_code = code if code >= 0 else 128 - code
        pod.done.set()

    # -- HTTP ---------------------------------------------------------------------------

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _route(self, verb: str):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                standin.calls.append((verb, url.path))
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                jobs, pods = JOBS.match(url.path), PODS.match(url.path)
                if jobs:
                    return self._jobs(verb, jobs.group(1), jobs.group(2), body)
                if pods:
                    return self._pods(verb, pods.group(1), pods.group(2), pods.group(3), body, query)
                return self._status(404, f"the stand-in does not implement {verb} {url.path}")

            def _jobs(self, verb, namespace, name, body):
                if verb == "POST" and name is None:
                    return self._send(201, standin.create_job(namespace, body))
                if name is not None and (namespace, name) in standin.jobs:
                    if verb == "GET":
                        return self._send(200, standin.job_json(namespace, name))
                    if verb == "DELETE" and standin.delete("job", namespace, name):
                        return self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})
                return self._status(404, f'jobs.batch "{name}" not found')

            def _pods(self, verb, namespace, name, sub, body, query):
                if name is None and verb == "POST":
                    return self._send(201, standin.create_pod(namespace, body).as_json())
                if name is None and verb == "GET":
                    selector = query.get("labelSelector", "")
                    found = [
                        p.as_json()
                        for (ns, _), p in list(standin.pods.items())
                        if ns == namespace and selector_matches(selector, p.manifest["metadata"].get("labels") or {})
                    ]
                    return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": found})
                pod = standin.pods.get((namespace, name))
                if pod is None:
                    return self._status(404, f'pods "{name}" not found')
                if verb == "DELETE":
                    standin.delete("pod", namespace, name)
                    return self._send(200, pod.as_json())
                if sub == "/log":
                    return self._log(pod, query.get("follow") == "true")
                return self._send(200, pod.as_json())

            def _log(self, pod: _Pod, follow: bool):
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                sent = 0
                while True:
                    finished = pod.done.is_set()
                    with pod.lock:
                        lines = pod.lines[sent:]
                    for line in lines:
                        self.wfile.write((line + "\n").encode())
                    self.wfile.flush()
                    sent += len(lines)
                    if not follow or finished or pod.process is None:
                        return
                    time.sleep(0.1)

            def _status(self, code: int, message: str):
                reason = "NotFound" if code == 404 else "BadRequest"
                payload = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message}
                self._send(code, dict(payload, reason=reason, code=code))

            def _send(self, code: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_DELETE(self):
                self._route("DELETE")

            def log_message(self, *args):
                pass

        return Handler


def _kill(pod: _Pod) -> None:
    if pod.process is not None and pod.process.poll() is None:
        try:
            os.killpg(pod.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        pod.process.wait()
