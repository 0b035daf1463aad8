"""The KubeRay RayJob of bulk embedding: pods that are valid Kubernetes and wired like the
services', a command that is the bulk command on the services' own settings."""

from __future__ import annotations

import copy
import re
import shlex
from string import Template
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.common.checkpoints import store_prefix
from services.indexer import bulk
from services.indexer.settings import IndexerSettings
from tests.deploy.helpers import REPO, known_vars, yaml_documents
from tests.deploy.test_k8s_manifests import K8S, RAY_API, VERSIONS, base_objects

RAY = K8S / "ray"
Doc = dict[str, Any]


def rayjob() -> Doc:
    [job] = yaml_documents(RAY / "bulk-embed.yaml")
    assert (job["apiVersion"], job["kind"]) == (RAY_API, "RayJob")
    return job


def pod_templates(job: Doc) -> dict[str, Doc]:
    cluster = job["spec"]["rayClusterSpec"]
    groups = {g["groupName"]: g["template"] for g in cluster["workerGroupSpecs"]}
    return {"head": cluster["headGroupSpec"]["template"], **groups}


def as_pod_template(name: str, template: Doc) -> Doc:
    return {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": name}, "template": template}


def services_env() -> dict[str, str]:
    config = base_objects()["ConfigMap", "timanh-config"]["data"]
    secret = yaml_documents(K8S / "secret.example.yaml")[0]["stringData"]
    return {**config, **secret}


def head_env(job: Doc) -> dict[str, str]:
    [head] = pod_templates(job)["head"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in head.get("env", [])}


@pytest.mark.parametrize("version", VERSIONS)
def test_ray_pods_match_the_kubernetes_schema(version: str) -> None:
    for name, template in pod_templates(rayjob()).items():
        kubernetes_validate.validate(as_pod_template(name, template), version, strict=True)


def test_a_misspelt_field_in_a_ray_pod_is_caught() -> None:
    template = copy.deepcopy(pod_templates(rayjob())["gpu"])
    template["spec"]["containers"][0]["resorces"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(as_pod_template("gpu", template), VERSIONS[-1], strict=True)


def test_the_entrypoint_is_the_bulk_command_on_the_services_settings() -> None:
    job = rayjob()
    env = {**services_env(), **head_env(job)}
    # Every variable it names is set on the head (KeyError otherwise).
    words = shlex.split(Template(job["spec"]["entrypoint"]).substitute(env))
    assert words[:3] == ["python", "-m", "services.indexer.bulk"]
    args = bulk.parse(words[3:])
    assert args.model == env["ENCODER_MODEL"] and store_prefix(args.model), "the encoder's own checkpoint"
    bucket = env["STORAGE_S3_BUCKET"]
    assert args.source.startswith(f"s3://{bucket}/")
    key = args.source.removeprefix(f"s3://{bucket}/")
    assert any(key.startswith(p) for p in IndexerSettings().import_prefixes), "an allowed import prefix"
    assert args.device == "cuda"
    assert job["spec"]["submissionMode"] == "HTTPMode", "the head's shell expands the variables"


def test_the_cluster_runs_the_pinned_ray_on_gpu_workers() -> None:
    job = rayjob()
    cluster = job["spec"]["rayClusterSpec"]
    pin = re.search(r"^ray==(\S+)$", (REPO / "constraints.txt").read_text(), re.M)
    assert pin and cluster["rayVersion"] == pin.group(1)
    assert cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0", "the head only runs the command"
    encoder = base_objects()["Deployment", "encoder"]["spec"]["template"]["spec"]
    [group] = cluster["workerGroupSpecs"]
    assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
    pod = group["template"]["spec"]
    assert pod["nodeSelector"] == encoder["nodeSelector"] and pod["tolerations"] == encoder["tolerations"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    kustomization = yaml.safe_load((RAY / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["bulk-embed.yaml"]
    [image] = kustomization["images"]
    for template in pod_templates(job).values():
        for container in template["spec"]["containers"]:
            assert container["image"].split(":")[0] == image["name"] == "timanh/encoder"
    # The tag names the encoder image built with Ray and the indexer (EXTRAS=encoder,bulk).
    assert image["newTag"].endswith("bulk")
    dockerfile = (REPO / "deploy" / "docker" / "encoder.Dockerfile").read_text()
    assert "ARG EXTRAS=encoder" in dockerfile and '".[${EXTRAS}]"' in dockerfile
    assert "EXTRAS=encoder,bulk" in dockerfile


@pytest.mark.parametrize(
    "group", ["head", "gpu"], ids=["head", "workers"]
)  # an id "gpu" reads as the GPU marker
def test_ray_pods_run_unprivileged_on_the_services_config(group: str) -> None:
    job = rayjob()
    template = pod_templates(job)[group]
    pod = template["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    volumes = {v["name"]: v for v in pod["volumes"]}
    for container in pod["containers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
        assert "memory" in container["resources"]["limits"]
        refs = [next(iter(source.values()))["name"] for source in container["envFrom"]]
        assert refs == ["timanh-config", "timanh-secrets"]
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
        # A read-only root: Ray's session files need /tmp, its object store /dev/shm.
        assert security["readOnlyRootFilesystem"] is True and "/tmp" in mounts
        assert mounts["/dev/shm"]["emptyDir"]["medium"] == "Memory"
    given = set(head_env(job)) if group == "head" else set()
    named = set(re.findall(r"\$(\w+)", job["spec"]["entrypoint"].replace("{", "").replace("}", "")))
    assert given <= known_vars() | named, "a variable neither a service nor the command reads"
