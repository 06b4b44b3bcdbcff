"""The container's health check: GET /api/v1/health on this container, exit 0 only on a 2xx.

It names the first of ALLOWED_HOSTS as the Host, so the request passes Django's host check
wherever the service is deployed. Standard library only: the image has no curl.
"""

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4


def main() -> int:
    port = os.environ.get("PORT", "8000")
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    # ".example.com" allows example.com and its subdomains; "*" allows any host.
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/health", headers={"Host": host}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
