"""Finding 7: tasks survive a killed worker, are time-limited, and the purge runs without beat."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ocr.models import OcrRequest, RequestStatus
from quickvault.celery import app


def test_a_task_is_acknowledged_only_after_it_ran_and_requeued_when_its_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    # With late acknowledgement a worker should reserve no more than the task it runs.
    assert app.conf.worker_prefetch_multiplier == 1


def test_tasks_are_time_limited_below_the_broker_visibility_timeout():
    soft, hard = app.conf.task_soft_time_limit, app.conf.task_time_limit
    visibility = app.conf.broker_transport_options["visibility_timeout"]

    assert soft is not None and hard is not None
    assert 0 < soft < hard < visibility


def logged(days_ago: int) -> OcrRequest:
    return OcrRequest.objects.create(
        status=RequestStatus.SUCCESS, created_at=timezone.now() - timedelta(days=days_ago)
    )


@pytest.mark.django_db
def test_the_retention_purge_runs_as_a_command_without_beat(settings):
    settings.QV_LOG_RETENTION_DAYS = 30
    logged(31), logged(45)
    recent = logged(1)
    out = StringIO()

    call_command("purge_request_log", stdout=out)

    assert list(OcrRequest.objects.all()) == [recent]
    assert "Deleted 2 request log rows." in out.getvalue()


@pytest.mark.django_db
def test_running_the_purge_twice_deletes_nothing_the_second_time(settings):
    settings.QV_LOG_RETENTION_DAYS = 30
    logged(31)
    out = StringIO()

    call_command("purge_request_log", stdout=out)
    call_command("purge_request_log", stdout=out)

    assert out.getvalue().splitlines() == [
        "Deleted 1 request log rows.",
        "Deleted 0 request log rows.",
    ]
