"""Make the demo staff user and the demo API key that `make run` prints."""

import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from ocr.models import ApiKey

DEMO_KEY_NAME = "demo"
DEMO_USERNAME = "admin"
# A password nobody may keep: an older `make run` set it.
RETIRED_PASSWORD = "admin"
# Local and git-ignored, readable by the owner alone, so later runs can print them again.
CREDENTIALS_FILE = ".demo-api-key.json"
LOGIN_FILE = ".demo-login.json"


class Command(BaseCommand):
    help = (
        "Create the demo staff user (with a random password) and API key if missing, and print "
        "how to use them. For development: production makes users with createsuperuser and "
        "keys with create_api_key."
    )

    def handle(self, *args, **options) -> None:
        self.staff_user()
        self.api_key()

    def staff_user(self) -> None:
        username = os.environ.get("DEMO_ADMIN_USER", DEMO_USERNAME)
        login_file = Path(settings.BASE_DIR) / LOGIN_FILE
        stored = read_json(login_file)
        user = get_user_model().objects.filter(username=username).first()
        known = stored.get("password") if stored.get("username") == username else None
        if user is not None and known and user.check_password(known):
            self.stdout.write(f"Staff user {username!r}, password {known!r} (in {LOGIN_FILE}).")
            return
        if user is not None and not user.check_password(RETIRED_PASSWORD):
            self.stdout.write(
                f"Staff user {username!r} exists (password unchanged; "
                f"`manage.py changepassword {username}` sets a new one)."
            )
            return
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        if user is None:
            get_user_model().objects.create_superuser(
                username=username, email="", password=password
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        write_private(login_file, {"username": username, "password": password})
        self.stdout.write(f"Staff user {username!r}, password {password!r} (in {LOGIN_FILE}).")

    def api_key(self) -> None:
        credentials = Path(settings.BASE_DIR) / CREDENTIALS_FILE
        stored = read_json(credentials)
        if not ApiKey.objects.active().filter(key_id=stored.get("keyId", "")).exists():
            key, secret = ApiKey.issue(name=DEMO_KEY_NAME, rate_limit=0)
            stored = {"keyId": key.key_id, "secret": secret}
            write_private(credentials, stored)
        self.stdout.write(f"Demo API key id: {stored['keyId']}")
        self.stdout.write(f"Demo API secret: {stored['secret']}  (also in {credentials.name})")


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_private(path: Path, data: dict) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps(data))
