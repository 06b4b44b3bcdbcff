"""Make the demo staff user and the demo API key that `make run` prints."""

import json
import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from ocr.models import ApiKey

DEMO_KEY_NAME = "demo"


class Command(BaseCommand):
    help = "Create the demo staff user and API key if missing, and print how to use them."

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, email="", password=password)
            self.stdout.write(f"Created staff user {username!r} with password {password!r}.")
        else:
            self.stdout.write(f"Staff user {username!r} exists (password unchanged).")

        # The demo secret lives in a local, git-ignored file so later runs can print it again.
        credentials = Path(settings.BASE_DIR) / ".demo-api-key.json"
        stored = json.loads(credentials.read_text()) if credentials.exists() else {}
        if not ApiKey.objects.active().filter(key_id=stored.get("keyId", "")).exists():
            key, secret = ApiKey.issue(name=DEMO_KEY_NAME, rate_limit=0)
            stored = {"keyId": key.key_id, "secret": secret}
            credentials.write_text(json.dumps(stored))
            credentials.chmod(0o600)
        self.stdout.write(f"Demo API key id: {stored['keyId']}")
        self.stdout.write(f"Demo API secret: {stored['secret']}  (also in {credentials.name})")
