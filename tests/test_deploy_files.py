"""The deployment files: the image, Compose and the Kubernetes manifests keep what production needs.

No Docker engine or cluster runs the tests, so these read the files as the tools would.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
APP_SERVICES = ("api", "worker", "beat")


def load_script(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (INSTRUCTION, arguments), grouped by build stage."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def final_stage(instruction: str) -> list[str]:
    return [args for name, args in dockerfile_stages()[-1] if name == instruction]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def base_manifest(name: str) -> dict:
    return yaml.safe_load((KUBERNETES / "base" / name).read_text())


def test_the_image_is_built_in_a_builder_stage_and_copied_into_a_slim_runtime():
    stages = dockerfile_stages()

    assert len(stages) >= 2
    assert any("--from=builder" in args for args in final_stage("COPY"))
    assert not any("gcc" in args or "build-essential" in args for args in final_stage("RUN"))


def test_the_image_runs_as_a_numeric_non_root_user():
    users = final_stage("USER")

    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit()
    assert user not in {"0", "root"}


def test_the_image_checks_its_health_on_the_health_endpoint_without_curl():
    (healthcheck,) = final_stage("HEALTHCHECK")

    assert "curl" not in healthcheck
    assert "quickvault-healthcheck" in healthcheck
    assert any("deploy/docker/healthcheck.py" in args for args in final_stage("COPY"))
    assert "/api/v1/health" in (ROOT / "deploy" / "docker" / "healthcheck.py").read_text()


def test_the_image_collects_static_files_and_ships_the_sample_dataset():
    assert any("manage.py collectstatic --noinput" in args for args in final_stage("RUN"))
    assert "datasets datasets" in final_stage("COPY")
    assert any(
        args.startswith("STATIC_ROOT=") or " STATIC_ROOT=" in args for args in final_stage("ENV")
    )


def test_the_build_context_leaves_out_local_state_and_secrets():
    ignore = (ROOT / ".dockerignore").read_text().splitlines()

    assert "*" in ignore  # everything is left out unless named
    reincluded = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert not reincluded & {".venv", ".git", "db.sqlite3", "backups", ".demo-api-key.json", ".env"}


class HealthServer(BaseHTTPRequestHandler):
    status = 200
    hosts: list[str] = []

    def do_GET(self):
        HealthServer.hosts.append(f"{self.headers['Host']} {self.path}")
        self.send_response(HealthServer.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    server = HTTPServer(("127.0.0.1", 0), HealthServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    HealthServer.hosts = []
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("status", "exit_status"), [(200, 0), (503, 1)], ids=["healthy", "database down"]
)
def test_the_container_health_check_passes_only_on_a_healthy_answer(
    health_server, monkeypatch, status, exit_status
):
    healthcheck = load_script(ROOT / "deploy" / "docker" / "healthcheck.py", "healthcheck")
    HealthServer.status = status
    monkeypatch.setenv("PORT", str(health_server.server_port))
    monkeypatch.setenv("ALLOWED_HOSTS", ".ocr.example.com,localhost")

    assert healthcheck.main() == exit_status
    assert HealthServer.hosts == ["ocr.example.com /api/v1/health"]


def test_the_container_health_check_fails_when_nothing_listens(health_server, monkeypatch):
    healthcheck = load_script(ROOT / "deploy" / "docker" / "healthcheck.py", "healthcheck")
    port = health_server.server_port
    health_server.shutdown()
    health_server.server_close()
    monkeypatch.setenv("PORT", str(port))

    assert healthcheck.main() == 1


def test_compose_requires_the_secrets_and_offers_no_working_default():
    text = (ROOT / "docker-compose.yml").read_text()

    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "ALLOWED_HOSTS"):
        assert f"${{{name}:?" in text
    assert "change-me" not in text
    for service in APP_SERVICES:
        environment = compose()["services"][service]["environment"]
        assert environment["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")
        assert "*" not in environment["ALLOWED_HOSTS"]


def test_compose_starts_the_app_after_healthy_stores_and_a_finished_migration():
    services = compose()["services"]

    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "migrate" in " ".join(services["migrate"]["command"])
    for service in APP_SERVICES:
        depends_on = services[service]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"


def test_every_long_running_compose_service_has_a_healthcheck():
    services = compose()["services"]

    for service in (*APP_SERVICES, "postgres", "redis"):
        assert services[service]["healthcheck"]["test"], service


def test_compose_bounds_redis_memory_and_evicts_least_recently_used_keys():
    command = compose()["services"]["redis"]["command"]

    assert command[command.index("--maxmemory") + 1]
    assert command[command.index("--maxmemory-policy") + 1] == "allkeys-lru"


def test_compose_keeps_backups_in_a_named_volume():
    document = compose()

    assert "backups" in document["volumes"]
    for service in APP_SERVICES:
        assert "backups:/app/backups" in document["services"][service]["volumes"]


def test_the_api_pods_probe_the_health_endpoint_and_run_as_non_root():
    pod = base_manifest("api-deployment.yaml")["spec"]["template"]["spec"]
    (api,) = pod["containers"]

    assert api["readinessProbe"]["httpGet"]["path"] == "/api/v1/health"
    assert api["livenessProbe"]["httpGet"]["path"] == "/api/v1/health"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert api["resources"]["requests"] and api["resources"]["limits"]["memory"]


def test_the_probes_host_is_an_allowed_host():
    config = base_manifest("configmap.yaml")["data"]
    (api,) = base_manifest("api-deployment.yaml")["spec"]["template"]["spec"]["containers"]
    headers = {h["name"]: h["value"] for h in api["readinessProbe"]["httpGet"]["httpHeaders"]}

    assert headers["Host"] in config["ALLOWED_HOSTS"].split(",")


def test_beat_runs_once_and_is_replaced_not_rolled():
    beat = base_manifest("beat-deployment.yaml")

    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"


def test_the_secret_example_is_not_applied_and_holds_only_placeholders():
    kustomization = base_manifest("kustomization.yaml")
    example = base_manifest("secret.example.yaml")

    assert "secret.example.yaml" not in kustomization["resources"]
    assert "SECRET_KEY" in example["stringData"]
    assert "REPLACE" in example["stringData"]["SECRET_KEY"]


def test_the_cron_jobs_run_the_backup_and_the_retention_purge_commands():
    commands = {
        name: base_manifest(name)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][
            0
        ]["command"]
        for name in ("backup-cronjob.yaml", "purge-request-log-cronjob.yaml")
    }

    assert commands["backup-cronjob.yaml"] == ["python", "manage.py", "backup"]
    assert commands["purge-request-log-cronjob.yaml"] == [
        "python",
        "manage.py",
        "purge_request_log",
    ]


def test_every_base_manifest_but_the_example_is_listed_in_the_kustomization():
    listed = set(base_manifest("kustomization.yaml")["resources"])
    present = {p.name for p in (KUBERNETES / "base").glob("*.yaml")}

    assert present - listed == {"kustomization.yaml", "secret.example.yaml"}


def test_the_manifest_check_reports_an_unknown_field_and_a_root_pod():
    check = load_script(KUBERNETES / "check.py", "k8s_check")
    deployment = base_manifest("beat-deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    pod["securityContext"]["runAsNonRoot"] = False
    pod["containers"][0]["image"] = "quickvault-ai-ocr:1.0"
    pod["initContainers"][0]["image"] = "quickvault-ai-ocr:1.0"
    pod["containers"][0]["livenesProbe"] = {}

    schema = list(check.schema_errors(deployment))
    policy = list(check.policy_errors(deployment))

    assert schema and all("livenesProbe" in error for error in schema)
    assert policy == ["Deployment/quickvault-beat: the pod must set securityContext.runAsNonRoot"]
