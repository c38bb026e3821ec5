"""The deployment recipes agree with each other and with what is tested.

``deploy/ingress.yaml`` (Kubernetes) and ``docs/nginx-webhook-only.conf`` (nginx) must expose the
same webhook paths and nothing else; the Ingress must reach the webhook api-server's Service;
the Dockerfile, Helm values and constraints.txt must name the same Airflow release; the
``[webhook_trigger]`` options in the Helm values must exist. Read as text and YAML only; the
nginx config runs in a real nginx in tests/integration/test_reverse_proxy.py, the ``--apps core``
api-server in tests/integration/test_api_server_apps.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from airflow_webhook_trigger import config

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
NGINX = (REPO / "docs" / "nginx-webhook-only.conf").read_text()
WEBHOOK_PREFIXES = {"/api/v1/executions/webhook/", "/api/v1/main/executions/webhook/"}


def _documents(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def ingress_paths() -> dict[str, dict]:
    """path -> its backend, for every rule of every Ingress in deploy/ingress.yaml."""
    found = {}
    for doc in _documents("ingress.yaml"):
        assert doc["apiVersion"] == "networking.k8s.io/v1" and doc["kind"] == "Ingress"
        for rule in doc["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["pathType"] == "Prefix", path
                found[path["path"]] = path["backend"]["service"]
    return found


def nginx_locations() -> dict[str, str]:
    """Prefix location -> its body, for every ``location /prefix { ... }`` of the nginx config
    (exact ``=`` and regex ``~`` locations aside)."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^\s*location\s+(/[^\s{]*)\s*\{(.*?)^\s*\}", NGINX, re.M | re.S)}


def test_the_ingress_and_nginx_expose_exactly_the_same_paths():
    forwarded = {prefix for prefix, body in nginx_locations().items() if "proxy_pass" in body}
    assert set(ingress_paths()) == forwarded == WEBHOOK_PREFIXES
    everything_else = [body for prefix, body in nginx_locations().items() if prefix == "/"]
    assert everything_else and "return 404;" in everything_else[0] and "proxy_pass" not in everything_else[0]


def test_nginx_handles_each_prefix_alike():
    locations = nginx_locations()
    bodies = {prefix: locations[prefix].replace(prefix, "PREFIX") for prefix in WEBHOOK_PREFIXES}
    assert len(set(bodies.values())) == 1, "the webhook locations differ in more than their prefix"
    for prefix in WEBHOOK_PREFIXES:
        # proxy_pass with the same URI as the location: upstream gets the normalized path, unchanged
        assert f"proxy_pass http://airflow_api{prefix};" in locations[prefix]
        assert re.search(rf"location = {re.escape(prefix.rstrip('/'))} \{{[^}}]*return 404;", NGINX), prefix


@pytest.mark.parametrize("prefix", sorted(WEBHOOK_PREFIXES))
def test_the_nginx_log_masks_the_key_under_each_prefix(prefix):
    pattern, replacement = re.search(r'map \$uri \$webhook_masked_uri \{\s*"~([^"]+)" "([^"]+)";', NGINX).groups()
    pattern = pattern.replace("(?<", "(?P<")  # PCRE's named groups, in Python's spelling
    for tail in ("s3cr3t-key", "s3cr3t-key/extra", "x/s3cr3t-key"):  # everything after ns/dag is masked
        masked = re.sub(pattern, lambda m: replacement.replace("${webhook_head}", m["webhook_head"]),
                        f"{prefix}team/deploy/{tail}")
        assert masked == f"{prefix}team/deploy/***"


def test_the_ingress_reaches_the_webhook_api_server():
    deployment, service = _documents("webhook-api-server.yaml")
    assert (deployment["kind"], service["kind"]) == ("Deployment", "Service")
    for backend in ingress_paths().values():
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "airflow api-server --apps core" in " ".join(container["args"])
    assert {p["name"] for p in container["ports"]} >= {p["targetPort"] for p in service["spec"]["ports"]}


def test_one_airflow_release_everywhere():
    pinned = re.search(r"^apache-airflow==(\S+)$", (REPO / "constraints.txt").read_text(), re.M).group(1)
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^ARG AIRFLOW_VERSION=(\S+)$", dockerfile, re.M).group(1) == pinned
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}" in dockerfile
    assert re.search(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.M).group(1) == "%d.%d" % sys.version_info[:2]
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in dockerfile  # Airflow stays the image's
    values = yaml.safe_load((DEPLOY / "helm-values.yaml").read_text())
    assert values["airflowVersion"] == pinned and values["images"]["airflow"]["tag"].startswith(pinned)
    (container,) = _documents("webhook-api-server.yaml")[0]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f'{values["images"]["airflow"]["repository"]}:{values["images"]["airflow"]["tag"]}'


def test_the_dockerfile_installs_the_wheel_package_check_builds():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "COPY --chown=airflow:0 dist/airflow_webhook_trigger-*.whl" in dockerfile
    assert "bash scripts/package-check" in dockerfile and "rm -rf dist" in (REPO / "scripts" / "package-check").read_text()


def test_the_helm_values_set_real_options_and_agree_with_the_proxies():
    values = yaml.safe_load((DEPLOY / "helm-values.yaml").read_text())
    options = values["config"][config.SECTION]
    assert set(options) <= {option.name for option in config.OPTIONS}
    assert all(isinstance(value, str) for value in options.values())  # airflow.cfg text, as the chart wants
    (ingress,) = _documents("ingress.yaml")
    body_limit = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert body_limit == "1m" and int(options["max_body_size"]) == 1024 * 1024
    assert "client_max_body_size 1m;" in NGINX
    timeout = int(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"])
    assert float(options["wait_timeout"]) < timeout and "proxy_read_timeout 120s;" in NGINX
