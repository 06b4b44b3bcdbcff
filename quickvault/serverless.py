"""The AWS Lambda entry points.

``handler`` serves the ASGI application: API Gateway (HTTP API or REST API), an Application Load
Balancer or a function URL invokes ``handler(event, context)``, and Mangum turns the event into one
ASGI request and the response into the event's answer. Lifespan is off: the application has no
startup or shutdown hooks, and Django sets itself up when ``quickvault.asgi`` is imported, that is
during the cold start.

``purge_request_log_handler`` is for a schedule (EventBridge) in place of Celery beat: it deletes
the request log rows past the retention period and returns how many it deleted.
"""

import asyncio
from typing import Any

from django.core.management import call_command
from mangum import Mangum

from quickvault.asgi import application
from quickvault.celery import app as celery_app

# No Celery worker runs beside a function: a task runs in the invocation that sends it.
celery_app.conf.task_always_eager = True

_asgi_handler = Mangum(application, lifespan="off")
_loop: asyncio.AbstractEventLoop | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Mangum's handler, run on the one event loop this process keeps across invocations.

    Mangum runs each request on ``asyncio.get_event_loop()``, which has no loop to give where
    none is set (Python 3.14 raises there, and so does an earlier version once a loop has been
    closed and unset). One loop for the process also keeps the model client's connections,
    which belong to the loop that opened them, from one warm invocation to the next."""
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    return _asgi_handler(event, context)


def purge_request_log_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """Run `manage.py purge_request_log`; the event's content is not used."""
    return {"output": call_command("purge_request_log").strip()}
