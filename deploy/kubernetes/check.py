"""Render every kustomization under deploy/kubernetes and validate what it renders, offline.

Rendering is `kubectl kustomize`; validation uses the Kubernetes JSON schemas bundled in the
`kubernetes-validate` package (strict: an unknown field is an error), for the oldest and the newest
Kubernetes versions supported. On top of the schemas it checks what this service relies on: no
Secret is rendered (it is made outside the repository), every pod runs as a non-root user, and
every container has resource requests and a memory limit. Exit status 1 on any problem.

    python deploy/kubernetes/check.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent
# The oldest Kubernetes the manifests support (CronJob timeZone, autoscaling/v2, policy/v1 are
# older) and the newest whose schemas the package bundles.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
RENDER_TIMEOUT_SECONDS = 120


def kustomizations() -> list[Path]:
    return sorted(path.parent for path in ROOT.rglob("kustomization.yaml"))


def render(directory: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit(
            "kubectl is not installed: it renders the kustomizations (kubectl kustomize)."
        )
    completed = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{directory}: kustomize failed: {completed.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(completed.stdout) if doc]


def name_of(document: dict) -> str:
    return f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"


def schema_errors(document: dict) -> Iterator[str]:
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            yield f"{name_of(document)} (Kubernetes {version}): {path}: {error.message}"


def pod_spec(document: dict) -> dict | None:
    spec = document.get("spec", {})
    if document["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec")


def policy_errors(document: dict) -> Iterator[str]:
    name = name_of(document)
    if document["kind"] == "Secret":
        yield f"{name}: Secrets are made outside the repository, never rendered"
    pod = pod_spec(document)
    if pod is None:
        return
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        yield f"{name}: the pod must set securityContext.runAsNonRoot"
    for container in pod.get("initContainers", []) + pod.get("containers", []):
        resources = container.get("resources", {})
        if not resources.get("requests") or "memory" not in resources.get("limits", {}):
            yield f"{name}: container {container['name']} needs requests and a memory limit"
        if container.get("securityContext", {}).get("allowPrivilegeEscalation") is not False:
            yield f"{name}: container {container['name']} must forbid privilege escalation"
        if ":" not in container["image"].rsplit("/", 1)[-1]:
            yield f"{name}: container {container['name']} has no image tag"


def main() -> int:
    problems = 0
    for directory in kustomizations():
        documents = render(directory)
        errors = [e for doc in documents for e in (*schema_errors(doc), *policy_errors(doc))]
        label = directory.relative_to(ROOT)
        for error in errors:
            print(f"{label}: {error}", file=sys.stderr)
        problems += len(errors)
        versions = " and ".join(KUBERNETES_VERSIONS)
        state = "ok" if not errors else f"{len(errors)} problems"
        print(f"{label}: {len(documents)} resources, Kubernetes {versions}: {state}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
