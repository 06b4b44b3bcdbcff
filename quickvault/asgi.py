"""The ASGI application: QuickVault's handler, or Django's with QV_FAST_API_PATH off (see
quickvault/runtime/README.md), behind the body limit."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")

from quickvault.body_limit import BodyLimitMiddleware
from quickvault.runtime import asgi_application

# Bodies are bounded before Django reads them (quickvault/body_limit.py).
application = BodyLimitMiddleware(asgi_application())
