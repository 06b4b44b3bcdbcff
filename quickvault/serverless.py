"""The AWS Lambda entry points.

``handler`` serves the ASGI application: API Gateway (HTTP API or REST API), an Application Load
Balancer or a function URL invokes ``handler(event, context)``, and Mangum turns the event into one
ASGI request and the response into the event's answer. Lifespan is off: the application has no
startup or shutdown hooks, and Django sets itself up when ``quickvault.asgi`` is imported, that is
during the cold start.

``purge_request_log_handler`` is for a schedule (EventBridge) in place of Celery beat: it deletes
the request log rows past the retention period and returns how many it deleted.
"""

from typing import Any

from django.core.management import call_command
from mangum import Mangum

from quickvault.asgi import application
from quickvault.celery import app as celery_app

# No Celery worker runs beside a function: a task runs in the invocation that sends it.
celery_app.conf.task_always_eager = True

handler = Mangum(application, lifespan="off")


def purge_request_log_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """Run `manage.py purge_request_log`; the event's content is not used."""
    return {"output": call_command("purge_request_log").strip()}
