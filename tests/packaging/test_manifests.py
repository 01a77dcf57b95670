"""The Kubernetes manifest (scripts/container/daemonset.yaml) without a
cluster: yamllint-clean; every document is a valid object of its kind for
the official client's models (python3-kubernetes), with no field the API
does not know (the client drops unknown fields silently, so the raw YAML is
walked against the models' schema too); the DaemonSet says what xdp-pong
needs (host network, exactly CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_NET_RAW, one
metrics port everywhere, env vars behind every $(VAR), ConfigMap keys behind
every reference); and its arguments, expanded as the kubelet would, are
accepted by the real CLI's option parser.
"""
import os
import re
import subprocess

import pytest
import yaml
from kubernetes import client
from yamllint import linter
from yamllint.config import YamlLintConfig

from pylib.env import PROMTOOL, ROOT, XDP_PONG

MANIFEST = os.path.join(ROOT, "scripts", "container", "daemonset.yaml")
CONTAINERFILE = os.path.join(ROOT, "scripts", "container", "Containerfile")
PROMETHEUS_YML = os.path.join(ROOT, "scripts", "container", "prometheus.yml")
PROMETHEUS_K8S = os.path.join(ROOT, "scripts", "container", "prometheus-k8s.yml")
RULES = os.path.join(ROOT, "scripts", "container", "xdp-pong-rules.yml")
LINT = YamlLintConfig("{extends: default, rules: {line-length: {max: 120}}}")
CAPS = {"BPF", "PERFMON", "NET_ADMIN", "NET_RAW"}   # NET_RAW: --unclaimed's probes
NO_IFACE = "nosuch0"
VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")   # $$ escapes, as the kubelet reads it


def documents():
    with open(MANIFEST) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def doc_id(doc):
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def one(kind):
    (doc,) = [d for d in documents() if d.get("kind") == kind]
    return doc


def model_name(doc):
    """apps/v1 DaemonSet -> V1DaemonSet, v1 ConfigMap -> V1ConfigMap."""
    version = doc["apiVersion"].split("/")[-1]
    return version[0].upper() + version[1:] + doc["kind"]


def deserialize(doc):
    return client.ApiClient()._ApiClient__deserialize(doc, model_name(doc))


# ---- 1. yamllint ----

@pytest.mark.parametrize("path", [MANIFEST, PROMETHEUS_YML, PROMETHEUS_K8S, RULES], ids=os.path.basename)
def test_yamllint(path):
    with open(path) as f:
        problems = [f"{path}:{p.line}:{p.column}: {p.desc} ({p.rule})" for p in linter.run(f, LINT)]
    assert not problems, "\n".join(problems)


# ---- 2. the schema: the client's models, and every field known ----

PRIMITIVE = {"str": str, "int": int, "float": (int, float), "bool": bool}


def walk(value, typ, path):
    """The schema errors of a raw value against an openapi type name of the client."""
    if typ == "object":                    # IntOrString, RawExtension: anything
        return []
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            return [f"{path}: a list expected, not {value!r}"]
        return [e for i, v in enumerate(value) for e in walk(v, m.group(1), f"{path}[{i}]")]
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if not isinstance(value, dict):
            return [f"{path}: a mapping expected, not {value!r}"]
        errors = [f"{path}: key {k!r} is not a string" for k in value if not isinstance(k, str)]
        return errors + [e for k, v in value.items() for e in walk(v, m.group(1), f"{path}.{k}")]
    if typ in PRIMITIVE:
        want = PRIMITIVE[typ]
        if not isinstance(value, want) or (typ != "bool" and isinstance(value, bool)):
            return [f"{path}: a {typ} expected, not {value!r}"]
        return []
    if typ in ("datetime", "date"):
        return [] if isinstance(value, str) else [f"{path}: a {typ} string expected, not {value!r}"]
    model = getattr(client.models, typ)
    if not isinstance(value, dict):
        return [f"{path}: a {typ} mapping expected, not {value!r}"]
    by_json = {json: attr for attr, json in model.attribute_map.items()}
    errors = []
    for key, v in value.items():
        if key not in by_json:
            errors.append(f"{path}.{key}: no such field in {typ}")
        else:
            errors += walk(v, model.openapi_types[by_json[key]], f"{path}.{key}")
    return errors


@pytest.mark.parametrize("doc", documents(), ids=doc_id)
def test_document_is_a_valid_object(doc):
    assert isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str), "apiVersion and kind"
    name = model_name(doc)
    assert hasattr(client.models, name), f"no client model {name} for {doc['apiVersion']} {doc['kind']}"
    obj = deserialize(doc)                           # required fields and enums, as the client checks them
    assert type(obj).__name__ == name
    errors = walk(doc, name, doc_id(doc))
    assert not errors, "\n".join(errors)


def test_expected_documents():
    kinds = sorted(doc_id(d) for d in documents())
    assert kinds == ["ConfigMap/xdp-pong", "DaemonSet/xdp-pong"]
    namespaces = {d["metadata"].get("namespace") for d in documents()}
    assert namespaces == {"xdp-pong"}, "the ConfigMap must be in the DaemonSet's namespace"


# ---- 3. what xdp-pong needs of the DaemonSet ----

@pytest.fixture(scope="module")
def ds():
    return deserialize(one("DaemonSet"))


@pytest.fixture(scope="module")
def container(ds):
    (c,) = ds.spec.template.spec.containers
    return c


@pytest.fixture(scope="module")
def config():
    return one("ConfigMap")


def test_host_network(ds):
    pod = ds.spec.template.spec
    assert pod.host_network is True, "XDP attaches to the node's NIC: hostNetwork"
    assert pod.dns_policy == "ClusterFirstWithHostNet"
    assert pod.termination_grace_period_seconds is not None and pod.termination_grace_period_seconds >= 10


def test_security_context(ds, container):
    sc = container.security_context
    assert set(sc.capabilities.add) == CAPS and len(sc.capabilities.add) == len(CAPS)
    assert sc.capabilities.drop == ["ALL"]
    assert not sc.privileged, "never privileged"
    assert sc.allow_privilege_escalation is False
    assert sc.read_only_root_filesystem is True
    assert sc.seccomp_profile is not None and sc.seccomp_profile.type == "RuntimeDefault"
    pod_sc = ds.spec.template.spec.security_context
    assert pod_sc is None or not pod_sc.sysctls, "no sysctls"


def test_entrypoint_is_the_images(container):
    """No `command`: the image's ENTRYPOINT (`xdp-pong run`) takes the args, as test_args_parse assumes."""
    assert container.command is None
    text = open(CONTAINERFILE).read()
    assert re.search(r'^ENTRYPOINT \["/usr/sbin/xdp-pong", "run"\]$', text, re.M), "the image's ENTRYPOINT"


def test_selector_matches_template(ds):
    want = ds.spec.selector.match_labels
    have = ds.spec.template.metadata.labels or {}
    assert want and all(have.get(k) == v for k, v in want.items()), f"selector {want} vs template labels {have}"
    assert not ds.spec.selector.match_expressions
    assert ds.spec.update_strategy.type == "RollingUpdate"


def metrics_arg(container):
    (arg,) = [a for a in container.args if a.startswith("--metrics=")]
    return arg


def test_one_metrics_port(ds, container):
    (port,) = [p for p in container.ports if p.name == "metrics"]
    annotations = ds.spec.template.metadata.annotations or {}
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/port") == str(port.container_port), "annotation vs the metrics port"
    assert metrics_arg(container).rsplit(":", 1)[1] == str(port.container_port), "--metrics vs the metrics port"
    probe = container.readiness_probe
    assert probe is not None and probe.http_get.path == "/metrics"
    assert probe.http_get.port in ("metrics", port.container_port)


def test_resources(container):
    r = container.resources
    assert r.requests and {"cpu", "memory"} <= set(r.requests), "requests: cpu and memory"
    assert r.limits and "memory" in r.limits, "a memory limit"


def test_every_var_is_defined(container):
    defined = {e.name for e in container.env or []}
    used = {m.group(1) for a in container.args for m in VAR.finditer(a) if m.group(1)}
    assert used, "the args take their values from env vars"
    assert used <= defined, f"$(VAR) without an env var: {sorted(used - defined)}"


def test_every_configmap_key_exists(container, config):
    refs = [e.value_from.config_map_key_ref for e in container.env if e.value_from and e.value_from.config_map_key_ref]
    assert refs
    for ref in refs:
        assert ref.name == config["metadata"]["name"], f"ConfigMap {ref.name!r}: not in the manifest"
        assert ref.key in config.get("data", {}), f"key {ref.key!r} is not in the ConfigMap"
        assert not ref.optional, f"{ref.key}: an optional key would leave $(VAR) unexpanded"


# ---- 4. the args, expanded as the kubelet does, parse ----

def environment(container, config, pod_ip):
    env = {}
    for e in container.env:
        src = e.value_from
        if e.value is not None:
            env[e.name] = expand(e.value, env)
        elif src.config_map_key_ref:
            env[e.name] = NO_IFACE if src.config_map_key_ref.key == "interface" else \
                config["data"][src.config_map_key_ref.key]
        elif src.field_ref and src.field_ref.field_path == "status.podIP":
            env[e.name] = pod_ip
        else:
            raise AssertionError(f"{e.name}: a source this test cannot fill in")
    return env


def expand(arg, env):
    """Kubernetes' $(VAR) expansion: defined names replaced, $$ is $, anything else left as written."""
    return VAR.sub(lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), arg)


def commented_args():
    """The `# - --option=value` examples in the manifest's comments."""
    return re.findall(r"^\s*#\s*- (--[a-z-]+=\S+)\s*$", open(MANIFEST).read(), re.M)


def ipv6_metrics():
    (arg,) = re.findall(r"write (--metrics=\S+) instead", open(MANIFEST).read())
    return arg


def parse(args):
    res = subprocess.run([XDP_PONG, "run", *args], capture_output=True, text=True, timeout=30)
    return res.returncode, res.stdout + res.stderr


@pytest.mark.parametrize("case", ["as written", "with the commented --prefix examples", "IPv6 pod IP"])
def test_args_parse(container, config, case):
    args, pod_ip = list(container.args), "192.0.2.10"
    if case == "with the commented --prefix examples":
        extra = commented_args()
        assert extra and all(a.startswith("--prefix=") for a in extra)
        args += extra
    elif case == "IPv6 pod IP":
        args = [ipv6_metrics() if a == metrics_arg(container) else a for a in args]
        pod_ip = "2001:db8::10"
    env = environment(container, config, pod_ip)
    expanded = [expand(a, env) for a in args]
    assert NO_IFACE in expanded, "the interface comes from the ConfigMap's `interface`"
    rc, out = parse(expanded)
    assert (rc, out) == (1, f"xdp-pong: no such interface: {NO_IFACE}\n"), \
        f"xdp-pong run {' '.join(expanded)}: exit {rc}: {out}"


# ---- 5. the Prometheus side (scripts/container/prometheus*.yml, xdp-pong-rules.yml) ----

def test_prometheus_config_and_rules():
    """promtool (Debian's, unpacked by scripts/deps.sh) accepts the scrape config and the rules."""
    for args in (["check", "config", PROMETHEUS_YML], ["check", "rules", RULES]):
        res = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=os.path.dirname(RULES))
        assert res.returncode == 0 and "SUCCESS" in res.stdout, res.stdout + res.stderr


def test_rules_name_real_metrics():
    """Every xdp_pong_* series and reason the rules use is one the CLI exports."""
    text = open(RULES).read()
    names = set(re.findall(r"\bxdp_pong_[a-z_]+", text))
    source = open(os.path.join(ROOT, "loader", "output.c")).read()
    assert names and all(f'"{n}' in source for n in names), names
    reasons = set(re.findall(r'reason="([a-z_0-9]+)"', text))
    header = open(os.path.join(ROOT, "xdp", "pong.h")).read()
    assert reasons and all(f'"{r}"' in header for r in reasons), reasons


def test_k8s_scrape_job_matches_the_daemonset(ds, container):
    """Debian's promtool has no Kubernetes discovery: the job's filters are checked against the DaemonSet."""
    (job,) = yaml.safe_load(open(PROMETHEUS_K8S))["scrape_configs"]
    (sd,) = job["kubernetes_sd_configs"]
    assert sd["role"] == "pod" and sd["namespaces"]["names"] == [ds.metadata.namespace]
    keep = {r["source_labels"][0]: r["regex"] for r in job["relabel_configs"] if r.get("action") == "keep"}
    annotations = ds.spec.template.metadata.annotations
    assert annotations["prometheus.io/scrape"] == keep["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    assert keep["__meta_kubernetes_pod_container_port_name"] in [p.name for p in container.ports]
