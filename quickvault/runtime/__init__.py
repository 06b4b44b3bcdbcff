"""Where the API's fast path bends Django, and the switch back to Django's stock path.

Every workaround that leans on a framework's private internals lives in this package (see its
README.md): ``handler`` (the ASGI handler and the API's database thread), ``middleware_chain``
(the middleware chain of API requests, run on the event loop), ``cache`` (cache backends whose
async methods need no thread), ``loop_writes`` (short SQLite writes on the event loop),
``turns`` (API requests take turns on the event loop) and ``model_transport`` (the model client's
exchange done without a request's turn).
``QV_FAST_API_PATH`` (on by default) picks them; off, the service runs on Django's, and
django-redis's, stock code.

This module imports nothing of Django at import time, so settings, URLs and middlewares can all
import ``API_PREFIX`` from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.core.handlers.asgi import ASGIHandler

# Every path of the versioned REST API starts with this: the URLs are mounted here, the error
# envelope covers it, and the fast path takes the requests under it.
API_PREFIX = "/api/v1/"


def fast_api_path() -> bool:
    """Whether the workarounds of this package are in use (the QV_FAST_API_PATH setting)."""
    from django.conf import settings

    return bool(settings.QV_FAST_API_PATH)


def asgi_application(*, warm_up: str | None = None) -> ASGIHandler:
    """The ASGI application of the service: QuickVault's handler on the fast path, Django's own
    (``django.core.asgi.get_asgi_application``) with QV_FAST_API_PATH off. Either way the
    process may first open as many files as its model connections need (``limits``), and
    `warm_up`, the dotted path of a function, runs once Django is set up: on the fast path
    before the long-lived objects are frozen, so that what it loads is frozen too."""
    from django.utils.module_loading import import_string

    from quickvault.runtime.limits import raise_open_file_limit

    raise_open_file_limit()
    if fast_api_path():
        from quickvault.runtime.handler import get_application

        return get_application(warm_up=warm_up)
    from django.core.asgi import get_asgi_application

    application = get_asgi_application()
    if warm_up:
        import_string(warm_up)()
    return application
