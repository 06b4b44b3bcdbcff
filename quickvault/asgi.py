"""The ASGI application: QuickVault's handler, or Django's with QV_FAST_API_PATH off (see
quickvault/runtime/README.md), behind the body limit. Each process that imports it (a gunicorn or
uvicorn worker, a Lambda environment) warms up before it serves (``ocr.warm_up``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")

from quickvault.body_limit import BodyLimitMiddleware
from quickvault.runtime import asgi_application

# Bodies are bounded before Django reads them (quickvault/body_limit.py).
application = BodyLimitMiddleware(asgi_application(warm_up="ocr.warm_up.warm_up"))
