import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")


class QuickVaultASGIHandler(ASGIHandler):
    """Requests under /api/v1/ take the same middlewares without a thread per request: the
    static-file middleware is sync-only, so Django would otherwise run each of them, model call
    included, in a thread of its own (see ocr.middleware.build_api_chain)."""

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=is_async)
        if not is_async:
            return
        from ocr.middleware import API_PREFIX, build_api_chain

        api_chain = build_api_chain()
        if api_chain is None:
            return
        web_chain = self._middleware_chain

        async def dispatch(request):
            if request.path.startswith(API_PREFIX):
                return await api_chain(request)
            return await web_chain(request)

        self._middleware_chain = dispatch


def get_application() -> ASGIHandler:
    django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does
    return QuickVaultASGIHandler()


application = get_application()
