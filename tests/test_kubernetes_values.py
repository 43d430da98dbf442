"""@kubernetes values: each accepted shape -> its typed IR field and its effect in the Argo and the Airflow output;
each bad value -> the exact located error, on every target (normalize refuses it before any target runs).

The Airflow side reads the generated DAG's task arguments with `ast` (no Airflow in this process);
tests/test_airflow.py checks that real Airflow builds the KubernetesPodOperator from them.
"""

from __future__ import annotations

import ast

import pytest
import yaml

from flowc.compiler import CompileError, Options, compile_flow, load_flow
from flowc.compiler.ir import Toleration

FILE = "flow.py"


def flow_source(decorators: str) -> str:
    """A two-step flow whose `start` carries `decorators` (line 5, column 6 for the first)."""
    return (
        "from flowc import FlowSpec, kubernetes, resources, secrets, step\n\n\n"
        "class ValuesFlow(FlowSpec):\n"
        f"    {decorators}\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n\n"
        "    @step\n"
        "    def end(self):\n"
        "        pass\n"
    )


def argo_start(source: str, options: Options = Options()) -> tuple[dict, dict]:
    """(the WorkflowTemplate, the `start` step's template)."""
    doc = yaml.safe_load(compile_flow(source, FILE, "argo", options).text)
    return doc, next(t for t in doc["spec"]["templates"] if t["name"] == "start")


def airflow_start(source: str, options: Options = Options()) -> dict:
    """The `start` task's keyword arguments in the generated DAG, as Python values."""
    tree = ast.parse(compile_flow(source, FILE, "airflow", options).text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and any(
            k.arg == "task_id" and isinstance(k.value, ast.Constant) and k.value.value == "start" for k in node.keywords
        ):
            return {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    raise AssertionError("no start task")


# id -> (decorators, IR fact of `start`, expected fact, Argo fact (doc, template), expected, Airflow kwarg, expected)
ACCEPTED = {
    "node-selector-dict": (
        '@kubernetes(node_selector={"pool": "gpu"})',
        lambda s: s.compute.kubernetes.node_selector,
        (("pool", "gpu"),),
        lambda d, t: t["nodeSelector"],
        {"pool": "gpu"},
        "node_selector",
        {"pool": "gpu"},
    ),
    "node-selector-string": (
        '@kubernetes(node_selector="pool=gpu,zone=a")',
        lambda s: s.compute.kubernetes.node_selector,
        (("pool", "gpu"), ("zone", "a")),
        lambda d, t: t["nodeSelector"],
        {"pool": "gpu", "zone": "a"},
        "node_selector",
        {"pool": "gpu", "zone": "a"},
    ),
    "node-selector-prefixed-key": (
        '@kubernetes(node_selector={"cloud.google.com/gke-nodepool": "gpu-1"})',
        lambda s: s.compute.kubernetes.node_selector,
        (("cloud.google.com/gke-nodepool", "gpu-1"),),
        lambda d, t: t["nodeSelector"],
        {"cloud.google.com/gke-nodepool": "gpu-1"},
        "node_selector",
        {"cloud.google.com/gke-nodepool": "gpu-1"},
    ),
    "secrets-string": (
        '@kubernetes(secrets="db-creds")',
        lambda s: s.compute.kubernetes.secrets,
        ("db-creds",),
        lambda d, t: [e["secretRef"]["name"] for e in t["container"]["envFrom"]],
        ["db-creds"],
        "secret_names",
        ["db-creds"],
    ),
    "secrets-comma-string": (
        '@kubernetes(secrets="b-creds, a-creds")',
        lambda s: s.compute.kubernetes.secrets,
        ("b-creds", "a-creds"),
        lambda d, t: [e["secretRef"]["name"] for e in t["container"]["envFrom"]],
        ["b-creds", "a-creds"],
        "secret_names",
        ["b-creds", "a-creds"],
    ),
    "secrets-merged-in-order": (
        '@secrets(sources=["z-creds"])\n    @kubernetes(secrets=["a-creds", "z-creds"])',
        lambda s: (s.secrets, s.compute.kubernetes.secrets),
        (("z-creds",), ("a-creds", "z-creds")),
        lambda d, t: [e["secretRef"]["name"] for e in t["container"]["envFrom"]],
        ["z-creds", "a-creds"],
        "secret_names",
        ["z-creds", "a-creds"],
    ),
    "toleration-camel-case-seconds": (
        '@kubernetes(tolerations=[{"key": "spot", "operator": "Equal", "value": "yes", "effect": "NoExecute", '
        '"tolerationSeconds": 60}])',
        lambda s: s.compute.kubernetes.tolerations,
        (Toleration("spot", "Equal", "yes", "NoExecute", 60),),
        lambda d, t: t["tolerations"],
        [{"effect": "NoExecute", "key": "spot", "operator": "Equal", "tolerationSeconds": 60, "value": "yes"}],
        "tolerations",
        [{"key": "spot", "operator": "Equal", "value": "yes", "effect": "NoExecute", "toleration_seconds": 60}],
    ),
    "toleration-metaflow-snake-case": (
        '@kubernetes(tolerations=[{"key": "spot", "operator": "Exists", "effect": "NoExecute", '
        '"toleration_seconds": 0}])',
        lambda s: s.compute.kubernetes.tolerations,
        (Toleration("spot", "Exists", None, "NoExecute", 0),),
        lambda d, t: t["tolerations"],
        [{"effect": "NoExecute", "key": "spot", "operator": "Exists", "tolerationSeconds": 0}],
        "tolerations",
        [{"key": "spot", "operator": "Exists", "effect": "NoExecute", "toleration_seconds": 0}],
    ),
    "toleration-exists-without-key": (
        '@kubernetes(tolerations=[{"operator": "Exists"}])',
        lambda s: s.compute.kubernetes.tolerations,
        (Toleration(None, "Exists"),),
        lambda d, t: t["tolerations"],
        [{"operator": "Exists"}],
        "tolerations",
        [{"operator": "Exists"}],
    ),
    "labels": (
        '@kubernetes(labels={"team": "ml-platform", "app.kubernetes.io/part-of": "flows", "empty": ""})',
        lambda s: s.compute.kubernetes.labels,
        (("app.kubernetes.io/part-of", "flows"), ("empty", ""), ("team", "ml-platform")),
        lambda d, t: t["metadata"]["labels"],
        {"app.kubernetes.io/part-of": "flows", "empty": "", "team": "ml-platform"},
        "labels",
        {"app.kubernetes.io/part-of": "flows", "empty": "", "team": "ml-platform"},
    ),
    "annotations-any-value": (
        '@kubernetes(annotations={"example.com/owner": "Data Team <data@example.com>"})',
        lambda s: s.compute.kubernetes.annotations,
        (("example.com/owner", "Data Team <data@example.com>"),),
        lambda d, t: t["metadata"]["annotations"],
        {"example.com/owner": "Data Team <data@example.com>"},
        "annotations",
        {"example.com/owner": "Data Team <data@example.com>"},
    ),
    "image-pull-policy": (
        '@kubernetes(image_pull_policy="Always")',
        lambda s: s.compute.kubernetes.image_pull_policy,
        "Always",
        lambda d, t: t["container"]["imagePullPolicy"],
        "Always",
        "image_pull_policy",
        "Always",
    ),
    "shared-memory": (
        '@kubernetes(shared_memory=512)',
        lambda s: s.resources.shared_memory_mib,
        512,
        lambda d, t: (t["volumes"], t["container"]["volumeMounts"]),
        (
            [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "512Mi"}}],
            [{"name": "dshm", "mountPath": "/dev/shm"}],
        ),
        "volumes",
        [{"name": "dshm", "empty_dir": {"medium": "Memory", "size_limit": "512Mi"}}],
    ),
    "gpu-vendor": (
        '@kubernetes(gpu=2, gpu_vendor="amd")',
        lambda s: s.compute.kubernetes.gpu_vendor,
        "amd",
        lambda d, t: t["container"]["resources"]["limits"]["amd.com/gpu"],
        "2",
        "pod_resources",
        {"cpu": "1", "memory": "4096Mi", "amd.com/gpu": "2"},
    ),
    "gpu-vendor-full-name": (
        '@kubernetes(gpu=1, gpu_vendor="gpu.intel.com/i915")',
        lambda s: s.compute.kubernetes.gpu_vendor,
        "gpu.intel.com/i915",
        lambda d, t: t["container"]["resources"]["requests"]["gpu.intel.com/i915"],
        "1",
        "pod_resources",
        {"cpu": "1", "memory": "4096Mi", "gpu.intel.com/i915": "1"},
    ),
    "resources": (
        '@kubernetes(cpu=0.5, memory=1024, disk=2048)',
        lambda s: (s.resources.cpu, s.resources.disk_mib),
        (0.5, 2048),
        lambda d, t: t["container"]["resources"]["requests"],
        {"cpu": "500m", "memory": "1024Mi", "ephemeral-storage": "2048Mi"},
        "pod_resources",
        {"cpu": "500m", "memory": "1024Mi", "ephemeral-storage": "2048Mi"},
    ),
    "namespace": (
        '@kubernetes(namespace="ml-team")',
        lambda s: s.compute.kubernetes.namespace,
        "ml-team",
        lambda d, t: d["metadata"]["namespace"],
        "ml-team",
        "namespace",
        "ml-team",
    ),
    "service-account": (
        '@kubernetes(service_account="trainer.sa")',
        lambda s: s.compute.kubernetes.service_account,
        "trainer.sa",
        lambda d, t: t["serviceAccountName"],
        "trainer.sa",
        "service_account_name",
        "trainer.sa",
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED), ids=list(ACCEPTED))
def test_accepted_shape(case):
    decorators, ir_fact, ir_expected, argo_fact, argo_expected, airflow_kwarg, airflow_expected = ACCEPTED[case]
    source = flow_source(decorators)
    flow, _ = load_flow(source, FILE)
    assert ir_fact(flow.step("start")) == ir_expected
    doc, template = argo_start(source)
    assert argo_fact(doc, template) == argo_expected
    assert airflow_start(source)[airflow_kwarg] == airflow_expected


def test_shared_memory_mount_on_airflow():
    kwargs = airflow_start(flow_source("@kubernetes(shared_memory=512)"))
    assert kwargs["volume_mounts"] == [{"name": "dshm", "mount_path": "/dev/shm"}]


LINE = "flow.py:5:6: error: "
REFUSED = {
    "label-value": (
        '@kubernetes(labels={"team": "ml platform!"})',
        "@kubernetes(labels): value 'ml platform!' of 'team' is not a valid Kubernetes label value",
    ),
    "label-key": (
        '@kubernetes(labels={"Bad Key": "x"})',
        "@kubernetes(labels): key 'Bad Key' is not a valid Kubernetes key",
    ),
    "label-value-too-long": (
        f'@kubernetes(labels={{"team": "{"x" * 64}"}})',
        f"@kubernetes(labels): value '{'x' * 64}' of 'team' is not a valid Kubernetes label value",
    ),
    "annotation-key": (
        '@kubernetes(annotations={"owner email": "a@b"})',
        "@kubernetes(annotations): key 'owner email' is not a valid Kubernetes key",
    ),
    "node-selector-value": (
        '@kubernetes(node_selector={"disk": "fast ssd"})',
        "@kubernetes(node_selector): value 'fast ssd' of 'disk' is not a valid Kubernetes label value",
    ),
    "node-selector-string-value": (
        '@kubernetes(node_selector="disk=fast ssd")',
        "@kubernetes(node_selector): value 'fast ssd' of 'disk' is not a valid Kubernetes label value",
    ),
    "node-selector-malformed": (
        '@kubernetes(node_selector="pool")',
        "@kubernetes(node_selector='pool'): expected a dict or 'key=value,key2=value2'",
    ),
    "toleration-exists-with-value": (
        '@kubernetes(tolerations=[{"key": "gpu", "operator": "Exists", "value": "yes"}])',
        "@kubernetes(tolerations): toleration 1: operator Exists matches every value of "
        "the taint; remove value 'yes' or use Equal",
    ),
    "toleration-effect-typo": (
        '@kubernetes(tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedul"}])',
        "@kubernetes(tolerations): toleration 1: effect 'NoSchedul' must be NoSchedule, "
        "PreferNoSchedule or NoExecute (did you mean 'NoSchedule'?)",
    ),
    "toleration-operator": (
        '@kubernetes(tolerations=[{"key": "gpu", "operator": "In"}])',
        "@kubernetes(tolerations): toleration 1: operator 'In' must be Equal or Exists",
    ),
    "toleration-unknown-key": (
        '@kubernetes(tolerations=[{"key": "gpu", "operatr": "Exists"}])',
        "@kubernetes(tolerations): toleration 1 has unknown key 'operatr' (did you mean "
        "'operator'?); expected key, operator, value, effect, tolerationSeconds",
    ),
    "toleration-seconds-string": (
        '@kubernetes(tolerations=[{"key": "a", "operator": "Exists", "effect": "NoExecute", '
        '"tolerationSeconds": "60"}])',
        "@kubernetes(tolerations): toleration 1: tolerationSeconds must be a non-negative integer, got '60'",
    ),
    "toleration-seconds-negative": (
        '@kubernetes(tolerations=[{"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": -1}])',
        "@kubernetes(tolerations): toleration 1: tolerationSeconds must be a non-negative integer, got -1",
    ),
    "toleration-seconds-not-no-execute": (
        '@kubernetes(tolerations=[{"key": "a", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}])',
        "@kubernetes(tolerations): toleration 1: tolerationSeconds applies only to "
        "effect NoExecute (Kubernetes refuses it otherwise)",
    ),
    "toleration-equal-without-key": (
        '@kubernetes(tolerations=[{"value": "x"}])',
        "@kubernetes(tolerations): toleration 1: operator Equal needs a key (a toleration "
        "without a key must use Exists)",
    ),
    "toleration-not-a-dict": (
        '@kubernetes(tolerations=["gpu"])',
        "@kubernetes(tolerations): toleration 1 must be a dict with keys key, operator, value, "
        "effect, tolerationSeconds; got 'gpu'",
    ),
    "service-account": (
        '@kubernetes(service_account="Trainer_SA")',
        "@kubernetes(service_account='Trainer_SA'): not a Kubernetes ServiceAccount name",
    ),
    "namespace": ('@kubernetes(namespace="ML")', "@kubernetes(namespace='ML'): not a Kubernetes namespace name"),
    "secret-name": (
        '@kubernetes(secrets="db_creds")',
        "@kubernetes(secrets): 'db_creds' is not a Kubernetes Secret name",
    ),
    "gpu-vendor": (
        '@kubernetes(gpu_vendor="NVIDIA Corp")',
        "@kubernetes(gpu_vendor='NVIDIA Corp'): does not make a Kubernetes resource name",
    ),
}


@pytest.mark.parametrize("target", ["argo", "airflow", "step-functions"])
@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_refused_value_is_a_located_error(case, target):
    decorators, message = REFUSED[case]
    with pytest.raises(CompileError) as caught:
        compile_flow(flow_source(decorators), FILE, target, Options(datastore="s3://bucket/flowc"))
    (error,) = caught.value.errors
    assert str(error).startswith(LINE + message), str(error)


ARGO_EXPRESSIONS = {
    "annotation": (
        '@kubernetes(annotations={"note": "{{workflow.name}}"})',
        "@kubernetes(annotations=...) value '{{workflow.name}}': Argo would replace",
    ),
    "image": ('@kubernetes(image="repo/{{x}}:1")', "@kubernetes(image=...) value 'repo/{{x}}:1': Argo would replace"),
    "environment": ('@environment(vars={"A": "{{x}}"})', "environment variable A: Argo would replace"),
}


@pytest.mark.parametrize("case", list(ARGO_EXPRESSIONS), ids=list(ARGO_EXPRESSIONS))
def test_argo_refuses_its_expression_syntax_at_the_decorator(case):
    decorators, message = ARGO_EXPRESSIONS[case]
    source = flow_source(decorators).replace("import FlowSpec,", "import FlowSpec, environment,")
    with pytest.raises(CompileError) as caught:
        compile_flow(source, FILE, "argo", Options())
    assert [str(e)[: len(LINE + message)] for e in caught.value.errors] == [LINE + message]
    compile_flow(source, FILE, "airflow", Options())  # Airflow never templates these values


@pytest.mark.parametrize(
    "options,message",
    [
        (Options(namespace="Team A"), "--namespace 'Team A' is not a valid Kubernetes name"),
        (Options(service_account="Trainer_SA"), "--service-account 'Trainer_SA' is not a valid Kubernetes name"),
        (Options(gpu_vendor="NVIDIA Corp"), "--gpu-vendor 'NVIDIA Corp' does not make a Kubernetes resource name"),
    ],
    ids=["namespace", "service-account", "gpu-vendor"],
)
@pytest.mark.parametrize("target", ["argo", "airflow"])
def test_pod_options_are_checked(options, message, target):
    with pytest.raises(CompileError) as caught:
        compile_flow(flow_source("@resources(cpu=1)"), FILE, target, options)
    (error,) = caught.value.errors
    assert str(error).startswith("flow.py:4:1: error: " + message), str(error)
