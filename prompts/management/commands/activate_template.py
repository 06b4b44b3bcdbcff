"""``activate_template TYPE@VERSION [--override-reason TEXT]``: release a version through its
type's gate; exits non-zero with the gate's message (naming both figures) when it refuses."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prompts.models import PromptTemplate
from prompts.releases import release


class Command(BaseCommand):
    help = "Make a template version its type's default, through the type's release gate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("template", help="TYPE@VERSION or the template's id.")
        parser.add_argument(
            "--override-reason",
            default="",
            help="Release even if the gate refuses; the reason is kept in the release history.",
        )

    def handle(self, *args, template: str, override_reason: str, **options) -> None:
        try:
            chosen = PromptTemplate.objects.named(template)
            done = release(chosen, override_reason=override_reason)
        except PromptTemplate.DoesNotExist as error:
            raise CommandError(str(error)) from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(done.gate_message)
        self.stdout.write(
            f"{chosen.label} is the default of {chosen.document_type.key} "
            f"(was {done.from_version or 'none'})."
        )
