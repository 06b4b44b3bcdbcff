"""A real Celery worker killed while it runs a task: the task is delivered again and completes.

Why the pool child is killed and not the worker's main process: with ``task_acks_late`` the
message stays unacknowledged while the task runs. When the pool child running it dies (the
kernel's OOM killer, a crash), the main process sees the child lost and, with
``task_reject_on_worker_lost``, rejects the message with requeue: it is back in the queue at
once, for any worker. Were the main process killed too (the whole machine lost), nobody would
reject it: Redis would hand the unacknowledged message out again only once the transport's
``visibility_timeout`` (CELERY_VISIBILITY_TIMEOUT, an hour) had passed, which this test does not
wait for. So the test kills the child, sees the message back in the queue within seconds, stops
the old worker and lets a new one run the task to its end.

The task is a real evaluation run (``ocr.tasks.run_evaluation``) answered by the fake model
server, slowed down so that the task is surely in flight when its process is killed. The run
was left "running" by the killed attempt; the second attempt starts it over and finishes it, and
running the task once more changes nothing.

It needs a broker, so it runs where REDIS_URL is set (the CI's run on PostgreSQL and Redis); the
workers and the run share the database of the test run's settings (DATABASE_URL), or a scratch
SQLite file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from quickvault.celery import app
from tests.servers import ROOT, managed, server_env

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs a Celery broker: runs where REDIS_URL is set (the PostgreSQL and Redis run)",
)

CASES = 8
# Each model call takes this long: 2 groups of 4 cases (ocr.evaluation_runs.CASES_AT_ONCE).
MODEL_LATENCY_SECONDS = 1.0
WAIT_SECONDS = 30
CELERY = str(Path(sys.executable).with_name("celery"))


def bank_cards() -> list[dict]:
    return [c for c in load_cases(SAMPLE_SET) if c["documentType"] == "bankCard"][:CASES]


ENQUEUE = """
import json, sys
from ocr.evaluation_runs import new_run
from ocr.tasks import run_evaluation
from prompts.models import PromptTemplate, TestSet
params = json.loads({params!r})
test_set = TestSet.objects.create(name=params["name"])
test_set.import_jsonl(params["cases"], known_types={{"bankCard"}})
template = PromptTemplate.objects.defaults().for_type("bankCard").get()
run = new_run(template=template, test_set=test_set)
run_evaluation.apply_async((run.pk,), queue=params["queue"])
print(run.pk)
"""

# The run's figures, then the task run once more in this process, then the figures again; the
# test set and its run are deleted afterwards.
FIGURES_TWICE = """
import json
from ocr.tasks import run_evaluation
from prompts.models import EvaluationRun
def figures():
    run = EvaluationRun.objects.get(pk={run_id})
    return dict(status=run.status, done=run.done_cases, total=run.total_cases,
                failures=run.model_failures, accuracy=run.field_accuracy,
                finished=run.finished_at.isoformat() if run.finished_at else None)
before = figures()
run_evaluation.apply(args=({run_id},))
after = figures()
EvaluationRun.objects.get(pk={run_id}).test_set.delete()
print(json.dumps([before, after]))
"""


def start_worker(env: dict[str, str], *, name: str, queue: str, log: Path) -> subprocess.Popen:
    command = [CELERY, "-A", "quickvault", "worker", "--pool", "prefork", "--concurrency", "1"]
    command += ["-Q", queue, "-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip"]
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(
    condition, what: str, *, worker: subprocess.Popen | None = None, log: Path | None = None
):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"The worker exited while waiting for {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log else ""
            pytest.fail(f"Timed out waiting for {what}\n{tail}")
        time.sleep(0.05)


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=WAIT_SECONDS)


def pool_children(worker: subprocess.Popen) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


@pytest.fixture
def worker_env(tmp_path, fake_openai_server):
    fake_openai_server.configure(latency=MODEL_LATENCY_SECONDS)
    fake_openai_server.add_cases(bank_cards())
    env = server_env(tmp_path, drop={"OPENAI_API_KEY", "OPENAI_BASE_URL"}) | {
        "QV_PROVIDER": "auto",
        "OPENAI_BASE_URL": fake_openai_server.base_url,
        "OPENAI_API_KEY": "sk-test-not-a-real-key",
    }
    managed("migrate", "--noinput", env=env)
    managed("seed", env=env)
    yield env
    fake_openai_server.configure()


def test_a_task_whose_worker_process_is_killed_is_delivered_again_and_completes(
    worker_env, fake_openai_server, tmp_path
):
    fake = fake_openai_server
    queue = f"worker-lost-{uuid.uuid4().hex}"
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    log = tmp_path / "workers.log"
    first = start_worker(worker_env, name="first", queue=queue, log=log)
    second = None
    try:
        params = {
            "name": queue,
            "queue": queue,
            "cases": "".join(json.dumps(case) + "\n" for case in bank_cards()),
        }
        enqueue = ENQUEUE.format(params=json.dumps(params))
        run_id = int(managed("shell", "-c", enqueue, env=worker_env))
        wait_for(lambda: fake.calls > 0, "the task to reach the model", worker=first, log=log)
        # Stop the first worker taking tasks, so that the task goes to the new worker.
        replies = app.control.cancel_consumer(
            queue, destination=[f"first@{socket.gethostname()}"], reply=True, timeout=5
        )
        assert replies, "the first worker did not answer"
        assert broker.llen(queue) == 0  # it holds the task, unacknowledged

        (child,) = pool_children(first)
        os.kill(child, signal.SIGKILL)

        wait_for(lambda: broker.llen(queue) == 1, "the task back in its queue", log=log)
        calls_before = fake.calls
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=WAIT_SECONDS)
        second = start_worker(worker_env, name="second", queue=queue, log=log)
        wait_for(
            lambda: "succeeded" in log.read_text(), "the task to succeed", worker=second, log=log
        )
        before, after = json.loads(
            managed("shell", "-c", FIGURES_TWICE.format(run_id=run_id), env=worker_env)
        )
    finally:
        for worker in (first, second):
            if worker is not None:
                stop(worker)
        broker.delete(queue)

    assert "WorkerLostError" in log.read_text()
    assert before["status"] == "finished"
    assert before["done"] == before["total"] == CASES
    assert before["failures"] == 0
    assert fake.calls - calls_before >= CASES  # the second attempt asked the model for every case
    assert after == before
