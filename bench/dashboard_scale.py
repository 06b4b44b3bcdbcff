"""Every staff page over a large request log on PostgreSQL, timed over HTTP as staff; and the API's
p95 with and without four staff on the dashboard at once.

    DATABASE_URL=postgres://... [REDIS_URL=redis://...] \\
        .venv/bin/python bench/dashboard_scale.py [--rows 1000000] [--days 90] [--repeat 5]
        [--workers 2] [--api-seconds 20] [--json REPORT]

It tops the log up to --rows with `manage.py generate_traffic` (bulk, through the live writers,
so the rollups follow; rows already there are kept), runs VACUUM ANALYZE (as autovacuum would
have by then on a live database), makes a staff user, starts
`make serve` on a free port of 127.0.0.1 on that database, logs in and requests each page
--repeat times after one warm-up request, printing the median and its ratio to the 0.5 s budget.
Then it keeps four signed analyze clients busy for --api-seconds, alone and again beside four
staff loading the 30- and 90-day dashboards one after the other (reading each for
--staff-pause seconds), and prints the API's p50/p95 both times. A dashboard page's figures are
kept a minute, so "first" is the cold figure and the median the one staff usually meet.
Speed is reported, never asserted. Everything it starts, it stops.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.signing import signature_headers  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
BUDGET_SECONDS = 0.5
# The request log's "o" for processing_time_ms: its place in OcrRequestAdmin.list_display.
SLOWEST = 8
STAFF = "bench-staff"
ANALYZE = "/api/v1/ocr/analyze"
ID_CARD_LINES = ["姓名 张三", "性别 女 民族 汉", "公民身份号码 11010519491231002X"]


def manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def shell(code: str, env: dict[str, str]) -> str:
    """What `code` printed last; it must print its answer as "=>answer"."""
    lines = manage("shell", "-c", code, env=env).splitlines()
    return [line for line in lines if line.startswith("=>")][-1][2:]


# An experiment for its page: the first there is, else a running one of two idCard variants.
EXPERIMENT = """
from prompts.models import DocumentType, Experiment, ExperimentVariant, PromptTemplate
found = Experiment.objects.first()
if found is None:
    control = PromptTemplate.objects.defaults().for_type("idCard").get()
    found = Experiment.objects.create(
        document_type=DocumentType.objects.get(key="idCard"), name="bench"
    )
    ExperimentVariant.objects.create(experiment=found, name="control", template=control)
    ExperimentVariant.objects.create(
        experiment=found, name="candidate", template=control.new_version(version="9.9.9")
    )
print("=>%d" % found.pk)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load(rows: int, days: int, env: dict[str, str]) -> int:
    count = "from ocr.models import OcrRequest; print('=>%d' % OcrRequest.objects.count())"
    have = int(shell(count, env))
    if have < rows:
        print(f"Loading {rows - have:,} log rows over {days} days (have {have:,})...", flush=True)
        started = time.perf_counter()
        manage("generate_traffic", "--rows", str(rows - have), "--days", str(days), env=env)
        print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
    shell(
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('VACUUM ANALYZE ocr_ocrrequest'); "
        "c.execute('VACUUM ANALYZE ocr_requestrollup'); "
        "c.execute('VACUUM ANALYZE ocr_feedback'); print('=>ok')",
        env,
    )
    return max(have, rows)


def staff_password(env: dict[str, str]) -> str:
    password = secrets.token_urlsafe(16)
    shell(
        "from django.contrib.auth.models import User; "
        f"u, _ = User.objects.get_or_create(username={STAFF!r}); "
        "u.is_staff = u.is_superuser = True; "
        f"u.set_password({password!r}); u.save(); print('=>ok')",
        env,
    )
    return password


def serve(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "serve",
            "HOST=127.0.0.1",
            f"PORT={port}",
            f"WORKERS={workers}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            sys.exit("make serve stopped before it answered")
        time.sleep(0.3)
    stop(server)
    sys.exit("make serve did not answer within 300 s")


def stop(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def logged_in(base: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/",
        data={
            "username": STAFF,
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": f"{base}/admin/login/"},
    )
    if "sessionid" not in client.cookies:
        sys.exit(f"Could not log in as staff ({response.status_code})")
    return client


def pages(rows: int, env: dict[str, str]) -> list[tuple[str, str]]:
    today = date.today()
    request_id = shell(
        "from ocr.models import OcrRequest; print('=>%s' % OcrRequest.objects.order_by('id')"
        f".values_list('request_id', flat=True)[{rows // 2}])",
        env,
    )
    key_id = shell(
        "from ocr.models import ApiKey; print('=>%s' % ApiKey.objects"
        ".filter(name__startswith='demo traffic').values_list('key_id', flat=True).first())",
        env,
    )
    experiment = shell(EXPERIMENT, env)
    log = "/admin/ocr/ocrrequest/"
    listed = [
        ("dashboard 1 day", f"/dashboard/?from={today}&to={today}"),
        ("dashboard 7 days (default)", "/dashboard/"),
        ("dashboard 30 days", f"/dashboard/?from={today - timedelta(days=29)}&to={today}"),
        ("dashboard 90 days", f"/dashboard/?from={today - timedelta(days=89)}&to={today}"),
        (
            "dashboard 90 days, one type and key",
            f"/dashboard/?from={today - timedelta(days=89)}&documentType=idCard&apiKey={key_id}",
        ),
        (
            "dashboard CSV by template, 90 days",
            f"/dashboard/?from={today - timedelta(days=89)}&csv=by_template",
        ),
        ("request log, no filter", log),
        ("request log, search by request id", f"{log}?q={request_id}"),
        ("request log, status=error", f"{log}?status__exact=error"),
        ("request log, type=idCard", f"{log}?document_type=idCard"),
        ("request log, provider=rules", f"{log}?provider=rules"),
        ("request log, cached", f"{log}?cached__exact=1"),
        ("request log, error code", f"{log}?error_code=upstream_timeout"),
        ("request log, slowest first", f"{log}?o=-{SLOWEST}"),
        ("request log, last page", f"{log}?p=LAST"),
        ("request log, slowest first, last page", f"{log}?o=-{SLOWEST}&p=LAST"),
        ("request log, status=error, last page", f"{log}?status__exact=error&p=LAST"),
    ]
    listed.append(("experiment page", f"/admin/prompts/experiment/{experiment}/change/"))
    return listed


def last_page(client: httpx.Client, path: str) -> int:
    """The last page the list's paginator offers, from the links of its first page."""
    first = client.get(path.replace("&p=LAST", "").replace("?p=LAST", "")).text
    return max((int(n) for n in re.findall(r"[?&;]p=(\d+)", first)), default=1)


def time_pages(client: httpx.Client, listed, repeat: int) -> list[dict]:
    results = []
    for name, path in listed:
        if path.endswith("p=LAST"):
            path = path.replace("p=LAST", f"p={last_page(client, path)}")
        started = time.perf_counter()
        client.get(path)
        first = time.perf_counter() - started
        timings = []
        status = 0
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path)
            timings.append(time.perf_counter() - started)
            status = response.status_code
        median = statistics.median(timings)
        results.append(
            {"page": name, "path": path, "status": status, "first_s": first, "median_s": median}
        )
        print(
            f"{name:42} {status}  first {first * 1000:6.0f} ms  median {median * 1000:6.0f} ms  "
            f"{median / BUDGET_SECONDS:5.2f} of the 0.5 s budget",
            flush=True,
        )
    return results


def api_load(base: str, key: dict, seconds: float, stop_at: list[float]) -> list[float]:
    timings: list[float] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            count = 0
            while time.monotonic() < stop_at[0]:
                count += 1
                body = json.dumps(
                    {
                        "documentType": "idCard",
                        "rawTexts": [*ID_CARD_LINES, f"REF {number}-{count}-{time.time_ns()}"],
                        "options": {"useCache": False},
                    },
                    ensure_ascii=False,
                ).encode()
                headers = signature_headers(
                    key_id=key["keyId"],
                    secret=key["secret"],
                    method="POST",
                    path=ANALYZE,
                    body=body,
                )
                started = time.perf_counter()
                response = http.post(
                    ANALYZE, content=body, headers={**headers, "Content-Type": "application/json"}
                )
                if response.status_code == 200:
                    with lock:
                        timings.append(time.perf_counter() - started)

    stop_at[0] = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def staff_load(client: httpx.Client, paths: list[str], stop_at: list[float], pause: float) -> None:
    while time.monotonic() < stop_at[0]:
        for path in paths:
            client.get(path)
            time.sleep(pause)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def api_with_and_without_staff(base, password, env, seconds, pause) -> dict:
    key = json.loads(
        manage("create_api_key", "dashboard-bench", "--rate-limit", "0", "--json", env=env)
        .strip()
        .splitlines()[-1]
    )
    today = date.today()
    paths = [
        f"/dashboard/?from={today - timedelta(days=29)}&to={today}",
        f"/dashboard/?from={today - timedelta(days=89)}&to={today}",
    ]
    stop_at = [0.0]
    alone = api_load(base, key, seconds, stop_at)
    staff = [logged_in(base, password) for _ in range(4)]
    stop_at = [time.monotonic() + seconds + 5]
    loaders = [threading.Thread(target=staff_load, args=(c, paths, stop_at, pause)) for c in staff]
    for thread in loaders:
        thread.start()
    beside = api_load(base, key, seconds, stop_at)
    stop_at[0] = 0
    for thread in loaders:
        thread.join()
    figures = {
        "alone": {
            "requests": len(alone),
            "p50_ms": percentile(alone, 0.5) * 1000,
            "p95_ms": percentile(alone, 0.95) * 1000,
        },
        "beside_four_staff": {
            "requests": len(beside),
            "p50_ms": percentile(beside, 0.5) * 1000,
            "p95_ms": percentile(beside, 0.95) * 1000,
        },
    }
    for name, row in figures.items():
        print(
            f"API {name:18} {row['requests']:6} answers  p50 {row['p50_ms']:6.1f} ms  "
            f"p95 {row['p95_ms']:6.1f} ms",
            flush=True,
        )
    moved = figures["beside_four_staff"]["p95_ms"] - figures["alone"]["p95_ms"]
    print(f"API p95 moved by {moved:+.1f} ms with four staff on the dashboard", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--api-seconds", type=float, default=20)
    parser.add_argument(
        "--staff-pause",
        type=float,
        default=2.0,
        help="Seconds each of the four staff reads a page before loading the next (0: no pause).",
    )
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    env = dict(os.environ)
    if not re.match(r"postgres(ql)?://", env.get("DATABASE_URL", "")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the point is a large log on it.")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.setdefault("QV_PROVIDER", "rules")
    manage("migrate", "--noinput", env=env)
    manage("seed", env=env)
    rows = load(options.rows, options.days, env)
    password = staff_password(env)
    listed = pages(rows, env)
    port = free_port()
    server = serve(port, options.workers, env)
    try:
        base = f"http://127.0.0.1:{port}"
        print(f"{rows:,} log rows; medians of {options.repeat} requests after a warm-up")
        report = {
            "rows": rows,
            "pages": time_pages(logged_in(base, password), listed, options.repeat),
        }
        report["api"] = api_with_and_without_staff(
            base, password, env, options.api_seconds, options.staff_pause
        )
    finally:
        stop(server)
    if options.json:
        options.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
