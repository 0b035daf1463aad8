"""Kubernetes manifests: valid against the API schemas offline, wired to each other consistently."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from services.common.index_signals import redis_namespace
from services.common.settings import StorageSettings
from services.indexer.queue.redis_queue import GROUP, job_stream
from tests.deploy.helpers import REPO, known_vars, yaml_documents

K8S = REPO / "deploy" / "k8s"
BASE = K8S / "base"
# The oldest version the manifests need (the StatefulSet pod-index label) and the newest.
VERSIONS = ["1.28.0", kubernetes_validate.latest_version()]
KEDA_API = "keda.sh/v1alpha1"
RAY_API = "ray.io/v1"  # KubeRay: its pods are checked in test_k8s_ray.py

Doc = dict[str, Any]


def manifests() -> list[tuple[Path, Doc]]:
    """Every Kubernetes object in deploy/k8s (kustomizations are not objects)."""
    return [
        (path, doc)
        for path in sorted(K8S.rglob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml_documents(path)
    ]


def base_objects() -> dict[tuple[str, str], Doc]:
    objects: dict[tuple[str, str], Doc] = {}
    for resource in yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]:
        for doc in yaml_documents(BASE / resource):
            objects[doc["kind"], doc["metadata"]["name"]] = doc
    return objects


def workloads() -> list[Doc]:
    return [doc for (kind, _), doc in base_objects().items() if kind in {"Deployment", "StatefulSet"}]


def pod_env_names(doc: Doc) -> set[str]:
    return {e["name"] for c in doc["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}


CORE = [(p, d) for p, d in manifests() if d["apiVersion"] not in {KEDA_API, RAY_API}]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("path", "doc"), CORE, ids=[f"{p.relative_to(K8S)}:{d['kind']}/{d['metadata']['name']}" for p, d in CORE]
)
def test_manifest_matches_the_kubernetes_schema(path: Path, doc: Doc, version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_strict_validation_catches_a_misspelt_field() -> None:
    """The check above can fail: a typo in a pod spec is an error, not a silent no-op."""
    deployment = copy.deepcopy(base_objects()["Deployment", "gateway"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def test_kustomizations_list_every_manifest() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        folder = kustomization.parent
        resources = yaml.safe_load(kustomization.read_text())["resources"]
        for resource in resources:
            assert (folder / resource).exists(), f"{kustomization}: {resource} does not exist"
        files = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
        assert files <= set(resources), f"{folder.name}: not in the kustomization: {files - set(resources)}"


def test_references_between_objects_resolve() -> None:
    objects = base_objects()
    secret = yaml_documents(K8S / "secret.example.yaml")[0]
    pods = {doc["metadata"]["name"]: doc["spec"]["template"] for doc in workloads()}
    for (kind, name), doc in objects.items():
        if kind == "Service" and doc["spec"].get("type") != "ExternalName":
            selector = doc["spec"]["selector"].items()
            assert any(selector <= t["metadata"]["labels"].items() for t in pods.values()), name
            ports = {p["name"] for t in pods.values() for c in t["spec"]["containers"] for p in c["ports"]}
            assert {p["targetPort"] for p in doc["spec"]["ports"]} <= ports
        if kind == "HorizontalPodAutoscaler":
            assert (doc["spec"]["scaleTargetRef"]["kind"], doc["spec"]["scaleTargetRef"]["name"]) in objects
        if kind == "Ingress":
            for rule in doc["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    service = path["backend"]["service"]
                    target = objects["Service", service["name"]]
                    assert service["port"]["name"] in {p["name"] for p in target["spec"]["ports"]}
    for doc in workloads():
        for container in doc["spec"]["template"]["spec"]["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in objects
                if "secretRef" in source:
                    assert source["secretRef"]["name"] == secret["metadata"]["name"]
    statefulset = objects["StatefulSet", "search"]
    headless = objects["Service", statefulset["spec"]["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"


def test_search_layout_agrees_with_the_gateway() -> None:
    objects = base_objects()
    config = objects["ConfigMap", "timanh-config"]["data"]
    replicas = objects["StatefulSet", "search"]["spec"]["replicas"]
    assert int(config["SEARCH_REPLICA_COUNT"]) == replicas
    assert config["SEARCH_SHARD_COUNT"] == config["INDEXER_SHARD_COUNT"]
    assert replicas <= int(config["SEARCH_SHARD_COUNT"])
    urls = config["GATEWAY_SEARCH_URLS"].split(",")
    assert urls == [f"http://search-{i}.search:8103" for i in range(replicas)]
    assert "SEARCH_SHARDS" not in config, "a fixed list would give every pod the same shards"
    assert "SEARCH_REPLICA_INDEX" in pod_env_names(objects["StatefulSet", "search"])


def test_encoder_runs_on_gpu_nodes_and_scales() -> None:
    objects = base_objects()
    pod = objects["Deployment", "encoder"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])
    assert pod["nodeSelector"]
    hpa = objects["HorizontalPodAutoscaler", "encoder"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "encoder"
    assert hpa["maxReplicas"] > hpa["minReplicas"]


def test_redis_minio_and_postgres_are_external() -> None:
    objects = base_objects()
    external = {"redis", "minio", "postgres"}
    for name in external:
        assert objects["Service", name]["spec"]["type"] == "ExternalName"
    assert not [name for kind, name in objects if kind in {"Deployment", "StatefulSet"} and name in external]
    catalog = urlsplit(yaml_documents(K8S / "secret.example.yaml")[0]["stringData"]["CATALOG_URL"])
    assert (catalog.scheme, catalog.hostname, catalog.port) == ("postgresql+psycopg", "postgres", 5432)


@pytest.mark.parametrize("doc", workloads(), ids=lambda d: d["metadata"]["name"])
def test_pods_run_unprivileged_with_probes(doc: Doc) -> None:
    pod = doc["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        if container["image"].startswith("timanh/"):  # our services; redis-cache has TCP and exec probes
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert "livenessProbe" in container and "readinessProbe" in container
        assert "memory" in container["resources"]["limits"]


def test_pods_get_only_variables_they_read() -> None:
    objects = base_objects()
    secret = yaml_documents(K8S / "secret.example.yaml")[0]
    given = set(objects["ConfigMap", "timanh-config"]["data"]) | set(secret["stringData"])
    given |= {name for doc in workloads() for name in pod_env_names(doc)}
    # Read by KEDA's TriggerAuthentication and by the redis-cache pod, not by a service.
    not_services = {"REDIS_PASSWORD", "REDIS_CACHE_PASSWORD", "REDISCLI_AUTH"}
    unknown = given - known_vars() - not_services
    assert not unknown, f"read by no settings class: {sorted(unknown)}"


def test_indexer_scales_on_the_queue_the_code_uses() -> None:
    docs = {d["kind"]: d for d in yaml_documents(K8S / "keda" / "indexer-scaledobject.yaml")}
    scaled = docs["ScaledObject"]["spec"]
    assert scaled["scaleTargetRef"]["name"] == "indexer"
    assert ("Deployment", "indexer") in base_objects()
    trigger = scaled["triggers"][0]
    assert trigger["type"] == "redis-streams"
    config = base_objects()["ConfigMap", "timanh-config"]["data"]
    storage = StorageSettings(
        s3_endpoint=config["STORAGE_S3_ENDPOINT"], s3_bucket=config["STORAGE_S3_BUCKET"]
    )
    stream = job_stream(redis_namespace(storage))
    assert (trigger["metadata"]["stream"], trigger["metadata"]["consumerGroup"]) == (stream, GROUP)
    assert trigger["authenticationRef"]["name"] == docs["TriggerAuthentication"]["metadata"]["name"]
    secret = yaml_documents(K8S / "secret.example.yaml")[0]
    for ref in docs["TriggerAuthentication"]["spec"]["secretTargetRef"]:
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]


def _bytes(quantity: str) -> int:
    """`256mb` (redis.conf) or `384Mi` (Kubernetes) in bytes."""
    match = re.fullmatch(r"(\d+)([a-zA-Z]*)", quantity)
    assert match, quantity
    number, unit = match.groups()
    scale = {"": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30}
    return int(number) * scale[unit.lower()]


def test_cache_has_a_redis_budget_of_its_own() -> None:
    """Cache pressure can never evict or block the job stream in the queue's Redis."""
    objects = base_objects()
    [container] = objects["Deployment", "redis-cache"]["spec"]["template"]["spec"]["containers"]
    args = container["args"]

    def option(name: str) -> str:
        return str(args[args.index(name) + 1])

    assert option("--maxmemory-policy") == "allkeys-lru"
    assert (option("--save"), option("--appendonly")) == ("", "no")
    assert 0 < _bytes(option("--maxmemory")) < _bytes(container["resources"]["limits"]["memory"])
    secret = yaml_documents(K8S / "secret.example.yaml")[0]["stringData"]
    for env in container["env"]:
        ref = env["valueFrom"]["secretKeyRef"]
        assert ref["key"] in secret and ref["name"] == "timanh-secrets"
    assert option("--requirepass") == "$(REDIS_CACHE_PASSWORD)"
    cache_url, queue_url = urlsplit(secret["GATEWAY_CACHE_REDIS_URL"]), urlsplit(secret["REDIS_URL"])
    service = objects["Service", "redis-cache"]["spec"]
    assert (cache_url.hostname, cache_url.port) == ("redis-cache", service["ports"][0]["port"])
    assert cache_url.password == secret["REDIS_CACHE_PASSWORD"]
    assert queue_url.hostname == "redis" and objects["Service", "redis"]["spec"]["type"] == "ExternalName"
