"""Encrypt every stored API key secret again under the first key of API_KEY_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand, CommandError

from ocr.models import ApiKey


class Command(BaseCommand):
    help = (
        "Re-encrypt every API key secret under the first key of API_KEY_ENCRYPTION_KEY. Run it "
        "after putting a new key first; then the old keys (or SECRET_KEY) can be retired."
    )

    def handle(self, *args, **options) -> None:
        unreadable = []
        count = 0
        for key in ApiKey.objects.order_by("pk").iterator():
            if key.reencrypt():
                count += 1
            else:
                unreadable.append(key.key_id)
        self.stdout.write(f"Re-encrypted {count} API key secret(s).")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} secret(s) decrypt under none of the keys at hand: "
                + ", ".join(unreadable)
            )
