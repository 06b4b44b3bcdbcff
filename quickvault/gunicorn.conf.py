"""gunicorn's configuration for `make serve` (its command-line flags override these).

Before any worker starts, the arbiter checks what the service needs (quickvault.startup): a
missing SECRET_KEY or an unreachable database stops it with one line instead of each worker's
traceback. Once it listens, it says where, whatever --log-level hides.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")

# gunicorn's own start and stop lines are noise beside the service's; when_ready says where.
loglevel = "warning"


def on_starting(server) -> None:
    from quickvault.startup import exit_unless_ready

    exit_unless_ready()


def when_ready(server) -> None:
    for listener in server.LISTENERS:
        print(f"Listening on {listener}", flush=True)
