"""How many slow model calls `make serve` holds in flight: throughput against the ideal, overhead.

    .venv/bin/python bench/analyze_concurrency.py [--concurrency 100] [--latency 1.0]
        [--rounds 8 | --duration SECONDS] [--together] [--workers 2] [--json REPORT]

It starts the fake OpenAI-compatible server of tests/fakes/openai_server.py answering after a set
latency, starts `make serve` on a free port of 127.0.0.1 pointed at it (on a scratch SQLite
database, or on DATABASE_URL and REDIS_URL where they are set), creates an API key with no rate
limit, and keeps N signed analyze requests in flight: each of N clients sends one request after
another, every one with `useCache: false` and text of its own so no cache answers. The clients
start spread over one model latency, as independent phones would; `--together` starts them at
the same instant instead, so they keep arriving in bursts of N. A first request per client, not
counted, opens the connections; then a window of `--rounds` model latencies (or `--duration`
seconds) is measured, with no ramp up or down in it.

It prints the throughput over the ideal (N in flight / latency: what the service would do with
no overhead at all) and the overhead of a request (its response time minus the model latency) at
p50, p95 and worst. Speed is reported, never asserted: the figures are one run's on a machine
that the model server and the load share with the service. Everything it starts, it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_sample, cpu_shares, python_loop_seconds  # noqa: E402
from ocr.casegen import SAMPLE_SET  # noqa: E402
from ocr.evaluation import load_cases  # noqa: E402
from tests.signing import signature_headers  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
ANALYZE = "/api/v1/ocr/analyze"
HEALTH = "/api/v1/health"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 20
# Files this process has open besides its clients' sockets: modules, logs, /proc reads.
OTHER_OPEN_FILES = 256


@dataclass
class Outcome:
    """What the measured requests came to."""

    seconds: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    providers: Counter[str] = field(default_factory=Counter)
    # The first answer of each failing status, to say why.
    samples: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    # CPU over the measured requests, in shares of one core: the server, the fake model, this
    # load generator, and everything else on the machine (other work skews the figures).
    cpu: dict[str, float] = field(default_factory=dict)


def open_files_for(clients: int) -> int:
    """Raise this process's soft open-file limit to what `clients` connections need, as far as
    the hard limit allows (a shell's usual 1024 ends a run of 1000 clients); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = clients + OTHER_OPEN_FILES
    if soft == resource.RLIM_INFINITY:
        return sys.maxsize
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def load_documents() -> list[dict[str, Any]]:
    """The shipped sample cases as analyze requests (documentType, rawTexts)."""
    cases = load_cases(SAMPLE_SET)
    return [{"documentType": c["documentType"], "rawTexts": c["rawTexts"]} for c in cases]


def start(command: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a command in a process group of its own, so stop() ends it with its children."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM the process group (make, gunicorn and its workers), SIGKILL what outlives it."""
    if process is None or (process.poll() is not None and not group_alive(process.pid)):
        return
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_SECONDS), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            process.poll()
            if not group_alive(process.pid):
                return
            time.sleep(0.1)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(
    ready,
    *,
    process: subprocess.Popen,
    log: Path,
    what: str,
    timeout: float = START_TIMEOUT_SECONDS,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise SystemExit(f"{what} stopped or was not ready in time; the end of {log}:\n{tail}")


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{HEALTH}", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def create_key(env: dict[str, str]) -> tuple[str, str]:
    command = [str(PYTHON), "manage.py", "create_api_key", "bench", "--rate-limit", "0", "--json"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    key = json.loads(done.stdout.strip().splitlines()[-1])
    return key["keyId"], key["secret"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def send(
    client: aiohttp.ClientSession, *, key: tuple[str, str], document: dict[str, Any], tag: str
) -> tuple[str, float, str]:
    """One signed analyze request; returns its status, seconds taken and, for a 200, the
    provider that answered (else the start of the answer)."""
    body = {
        "documentType": document["documentType"],
        # A line of its own makes every text distinct: no cache can answer it.
        "rawTexts": [*document["rawTexts"], f"REF {tag}"],
        "options": {"useCache": False},
    }
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = signature_headers(
        key_id=key[0], secret=key[1], method="POST", path=ANALYZE, body=payload
    )
    headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    try:
        async with client.post(ANALYZE, data=payload, headers=headers) as response:
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError) as error:
        return type(error).__name__, time.perf_counter() - started, repr(error)
    seconds = time.perf_counter() - started
    if response.status != 200:
        return str(response.status), seconds, text[:300]
    return "200", seconds, str(json.loads(text).get("provider"))


async def load(
    *,
    port: int,
    key: tuple[str, str],
    documents: list[dict[str, Any]],
    concurrency: int,
    latency: float,
    window: float,
    together: bool,
    timeout: float,
    groups: dict[str, int],
) -> Outcome:
    """Keep `concurrency` requests in flight, one client (one connection) each, and measure a
    steady window of `window` seconds: the answers that come back in it, and the CPU that
    `groups` (process group ids by name) and the machine use meanwhile.

    Each client's first request, not measured, opens its connection. The clients start spread
    evenly over one model latency, as independent phones would, unless `together`: then all of
    them send at the same instant, and keep coming back in bursts, each burst as wide as the
    service takes to get through it. The window opens once every client has had its first
    answer, and it closes before the clients stop, so it holds no ramp up or down.
    """
    outcome = Outcome()
    run = uuid.uuid4().hex[:8]
    # aiohttp (its HTTP parser is C) because the load generator shares the service's cores:
    # httpx took twice the CPU per request, and the delays of its event loop counted as
    # the service's overhead. A session of one connection per client.
    clients = [
        aiohttp.ClientSession(
            base_url=f"http://{HOST}:{port}",
            timeout=aiohttp.ClientTimeout(total=timeout),
            connector=aiohttp.TCPConnector(limit=1),
        )
        for _ in range(concurrency)
    ]
    warmed = 0
    all_warm = asyncio.Event()
    window_closed = asyncio.Event()
    opened_at = 0.0

    async def client_loop(index: int, client: aiohttp.ClientSession) -> None:
        nonlocal warmed
        if not together:
            await asyncio.sleep(latency * index / concurrency)
        sent = 0
        while not window_closed.is_set():
            document = documents[(index + sent * concurrency) % len(documents)]
            tag = f"{run}-{index}-{sent}"
            status, seconds, detail = await send(client, key=key, document=document, tag=tag)
            finished_at = time.perf_counter()
            sent += 1
            if sent == 1:
                warmed += 1
                if warmed == concurrency:
                    all_warm.set()
                continue
            # Throughput is answers per second of the window, whenever they were sent.
            if not all_warm.is_set() or window_closed.is_set() or finished_at < opened_at:
                continue
            outcome.statuses[status] += 1
            if status == "200":
                outcome.seconds.append(seconds)
                outcome.providers[detail] += 1
            else:
                outcome.samples.setdefault(status, detail)

    async def measure() -> None:
        nonlocal opened_at
        await all_warm.wait()
        before = cpu_sample(groups)
        opened_at = time.perf_counter()
        await asyncio.sleep(window)
        window_closed.set()
        outcome.elapsed = time.perf_counter() - opened_at
        outcome.cpu = cpu_shares(before, cpu_sample(groups), outcome.elapsed)

    try:
        await asyncio.gather(measure(), *(client_loop(i, c) for i, c in enumerate(clients)))
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    return outcome


def report(
    outcome: Outcome, *, args: argparse.Namespace, database: str, loop_seconds: float
) -> dict[str, Any]:
    ok = len(outcome.seconds)
    ideal = args.concurrency / args.latency
    throughput = ok / outcome.elapsed if outcome.elapsed else 0.0
    overheads = [(s - args.latency) * 1000 for s in outcome.seconds] or [float("nan")]
    return {
        "inFlight": args.concurrency,
        "modelLatencySeconds": args.latency,
        "workers": args.workers,
        "database": database,
        "start": "together" if args.together else "spread over one model latency",
        "requests": sum(outcome.statuses.values()),
        "ok": ok,
        "statuses": dict(outcome.statuses),
        "providers": dict(outcome.providers),
        "failureSamples": outcome.samples,
        "elapsedSeconds": round(outcome.elapsed, 3),
        "throughputPerSecond": round(throughput, 2),
        "idealPerSecond": round(ideal, 2),
        "ratio": round(throughput / ideal, 3),
        # Little's law: the requests the service actually held at once, on average.
        "meanInFlight": round(sum(outcome.seconds) / outcome.elapsed, 1) if outcome.elapsed else 0,
        "overheadMsP50": round(percentile(overheads, 0.50), 1),
        "overheadMsP95": round(percentile(overheads, 0.95), 1),
        "overheadMsMax": round(max(overheads), 1),
        "cpuCores": outcome.cpu,
        # The same code takes from one to three times the CPU per answer as the machine's
        # speed changes (a shared host): this says which kind of hour a run had.
        "serverCpuMsPerAnswer": (
            round(outcome.cpu["server"] * outcome.elapsed / ok * 1000, 2)
            if ok and "server" in outcome.cpu
            else None
        ),
        "cores": os.cpu_count(),
        "pythonLoopSeconds": round(loop_seconds, 3),
    }


def print_report(figures: dict[str, Any]) -> None:
    rows = [
        ("in flight", f"{figures['inFlight']}"),
        ("model latency", f"{figures['modelLatencySeconds']:.3f} s"),
        ("server", f"make serve, {figures['workers']} workers, {figures['database']}"),
        ("clients start", figures["start"]),
        (
            "requests",
            f"{figures['requests']} ({figures['ok']} ok; statuses {figures['statuses']}; "
            f"providers {figures['providers']})",
        ),
        ("window", f"{figures['elapsedSeconds']:.2f} s"),
        ("mean in flight", f"{figures['meanInFlight']}"),
        ("throughput", f"{figures['throughputPerSecond']:.1f} /s"),
        ("ideal", f"{figures['idealPerSecond']:.1f} /s (in flight / latency)"),
        ("ratio", f"{figures['ratio']:.3f} (throughput / ideal)"),
        ("overhead p50", f"{figures['overheadMsP50']:.1f} ms (response time - model latency)"),
        ("overhead p95", f"{figures['overheadMsP95']:.1f} ms"),
        ("overhead max", f"{figures['overheadMsMax']:.1f} ms"),
    ]
    if figures["cpuCores"]:
        used = ", ".join(f"{name} {cores:.2f}" for name, cores in figures["cpuCores"].items())
        rows.append(("cpu (cores)", f"{used} (of {figures['cores']})"))
    if figures["serverCpuMsPerAnswer"] is not None:
        rows.append(("server cpu", f"{figures['serverCpuMsPerAnswer']:.2f} ms per answer"))
    rows.append(
        (
            "machine speed",
            f"{figures['pythonLoopSeconds']:.2f} s for a Python loop of ten million additions "
            "(before the run)",
        )
    )
    for status, sample in figures["failureSamples"].items():
        rows.append((f"a {status} answer", sample))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def server_env(*, scratch: Path, fake_port: int, latency: float) -> tuple[dict[str, str], str]:
    env = dict(os.environ)
    env.update(
        {
            "OPENAI_BASE_URL": f"http://{HOST}:{fake_port}/v1",
            "OPENAI_API_KEY": "bench-not-a-real-key",
            "QV_PROVIDER": "openai",
            # Generous against the set latency: a timeout would measure the fallback instead.
            "OPENAI_TIMEOUT_SECONDS": str(max(30.0, latency * 5)),
            "OPENAI_REQUEST_BUDGET_SECONDS": str(max(60.0, latency * 10)),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("VIRTUAL_ENV", None)
    # make serve is the production server: it needs a key, and here it speaks plain HTTP.
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    env.setdefault("SECURE_SSL_REDIRECT", "0")
    if env.get("DATABASE_URL"):
        return env, "DATABASE_URL" + (" + REDIS_URL" if env.get("REDIS_URL") else "")
    env["SQLITE_PATH"] = str(scratch / "bench.sqlite3")
    return env, "scratch SQLite" + (" + REDIS_URL" if env.get("REDIS_URL") else "")


def exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", "-n", type=int, default=100, help="requests in flight")
    parser.add_argument("--latency", type=float, default=1.0, help="model latency, seconds")
    parser.add_argument(
        "--rounds", type=int, default=8, help="length of the measured window, in model latencies"
    )
    parser.add_argument("--duration", type=float, default=None, help="window, in seconds")
    parser.add_argument(
        "--together",
        action="store_true",
        help="start every client at the same instant (bursts) instead of spread over a latency",
    )
    parser.add_argument("--workers", type=int, default=2, help="WORKERS of make serve")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.concurrency < 1 or args.rounds < 1 or args.latency <= 0:
        parser.error("--concurrency and --rounds must be 1 or more, --latency above 0")

    if open_files_for(args.concurrency) < args.concurrency + OTHER_OPEN_FILES:
        parser.error(f"the open-file limit (ulimit -Hn) is too low for {args.concurrency} clients")
    # A kill or a closed terminal stops what the run started too, as Ctrl-C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, exit_on_signal)
    documents = load_documents()
    # Before anything starts, so the run's own load does not slow it.
    loop_seconds = python_loop_seconds()
    fake = serve = None
    with tempfile.TemporaryDirectory(prefix="qv-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        fake_port, port = free_port(), free_port()
        env, database = server_env(scratch=scratch, fake_port=fake_port, latency=args.latency)
        try:
            fake_command = [
                str(PYTHON),
                *("-m", "tests.fakes.openai_server", "--mode", "echo"),
                *("--port", str(fake_port), "--latency", str(args.latency)),
                *("--cases", str(SAMPLE_SET)),
            ]
            fake_log = scratch / "fake-openai.log"
            fake = start(fake_command, env=env, log=fake_log)
            wait_until(
                lambda: port_open(fake_port), process=fake, log=fake_log, what="The fake model"
            )
            serve_log = scratch / "serve.log"
            make_serve = ["make", "--no-print-directory", "serve", f"HOST={HOST}", f"PORT={port}"]
            serve = start(
                [*make_serve, f"WORKERS={args.workers}"],
                env=env,
                log=serve_log,
            )
            wait_until(lambda: healthy(port), process=serve, log=serve_log, what="make serve")
            key = create_key(env)
            outcome = asyncio.run(
                load(
                    port=port,
                    key=key,
                    documents=documents,
                    concurrency=args.concurrency,
                    latency=args.latency,
                    window=args.duration or args.rounds * args.latency,
                    together=args.together,
                    timeout=max(60.0, args.latency * 20),
                    groups={"server": serve.pid, "fake model": fake.pid, "load generator": 0},
                )
            )
        finally:
            stop(serve)
            stop(fake)
    figures = report(outcome, args=args, database=database, loop_seconds=loop_seconds)
    print_report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
