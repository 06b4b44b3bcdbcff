import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ocr.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for a client app and print its id and secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--rate-limit", type=int, default=None, help="Analyses a minute; 0: none."
        )
        parser.add_argument(
            "--daily-request-quota",
            type=int,
            default=None,
            help="Analyses a UTC day; none by default.",
        )
        parser.add_argument(
            "--json", action="store_true", help='Print {"keyId": ..., "secret": ...}.'
        )

    def handle(
        self,
        *args,
        name: str,
        rate_limit: int | None,
        daily_request_quota: int | None,
        json: bool,
        **options,
    ) -> None:
        if rate_limit is not None and rate_limit < 0:
            raise CommandError("--rate-limit must be 0 or more.")
        if daily_request_quota is not None and daily_request_quota < 1:
            raise CommandError("--daily-request-quota must be 1 or more.")
        key, secret = ApiKey.issue(name=name, rate_limit=rate_limit)
        if daily_request_quota is not None:
            key.daily_request_quota = daily_request_quota
            key.save(update_fields=["daily_request_quota"])
        if json:
            self.stdout.write(dumps({"keyId": key.key_id, "secret": secret}))
            return
        self.stdout.write(f"Key id: {key.key_id}")
        self.stdout.write(f"Secret: {secret}")
        self.stdout.write(f"Rate limit: {key.rate_limit or 'none'} analyses a minute")
        if key.daily_request_quota:
            self.stdout.write(f"Daily quota: {key.daily_request_quota} analyses")
        self.stdout.write("The secret is shown only now.")


def dumps(data: dict) -> str:
    return json.dumps(data)
