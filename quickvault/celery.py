"""The Celery application, configured from the CELERY_* settings.

Tasks are thin (an id or nothing in, a function of the app called) and idempotent: with
``task_acks_late`` a task may run twice. Code that enqueues a task inside a transaction does so
with ``task.delay_on_commit(...)`` (Celery's Django task class), so a worker never looks for
rows that are not committed yet, nor runs for a transaction rolled back.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")

app = Celery("quickvault")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
