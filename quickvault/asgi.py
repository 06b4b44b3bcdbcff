"""The ASGI application: QuickVault's handler, or Django's with QV_FAST_API_PATH off (see
quickvault/runtime/README.md)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")

from quickvault.runtime import asgi_application

application = asgi_application()
