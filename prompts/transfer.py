"""Moving prompt templates, with their versions, between installations.

An export lists every version. An import creates the versions it does not have and never
overwrites one: an entry whose version exists with the same content is unchanged, one whose
version exists with different content is an error. Each entry is checked on its own and every
error is reported by entry; an import with any error, or a dry run, changes nothing. An entry
marked ``isDefault`` is released through the type's gate (``prompts.releases``). Imported
versions are drafts (or archived, as exported): a version becomes active only by a release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from prompts.models import DocumentType, PromptTemplate, ReleaseKind, TemplateStatus
from prompts.releases import release

FORMAT_VERSION = 1
TEMPLATE_FIELDS = [
    "name",
    "version",
    "status",
    "system_prompt",
    "user_prompt",
    "model",
    "temperature",
    "max_tokens",
    "json_mode",
    "notes",
]
# What must match for an imported entry to be the version this installation has.
CONTENT_FIELDS = ["system_prompt", "user_prompt", "model", "temperature", "max_tokens", "json_mode"]
MAX_ENTRIES = 5_000


def export_templates() -> dict[str, Any]:
    templates = PromptTemplate.objects.select_related("document_type").order_by(
        "document_type__key", "created_at"
    )
    return {
        "format": FORMAT_VERSION,
        "templates": [
            {
                "documentType": t.document_type.key,
                "isDefault": t.is_default,
                **{name: getattr(t, name) for name in TEMPLATE_FIELDS},
            }
            for t in templates
        ],
    }


class PromptImportError(ValueError):
    """The file is not an export this installation can read."""


@dataclass
class EntryResult:
    """What the import did, or would do, with one entry."""

    index: int
    label: str
    action: str  # created, unchanged, released, error
    message: str = ""


@dataclass
class ImportReport:
    entries: list[EntryResult] = field(default_factory=list)
    applied: bool = False

    @property
    def errors(self) -> list[EntryResult]:
        return [e for e in self.entries if e.action == "error"]

    def count(self, action: str) -> int:
        return sum(e.action == action for e in self.entries)


def import_templates(data: Any, *, dry_run: bool = False, user=None) -> ImportReport:
    """Import the entries of an export (see the module docstring). Raises PromptImportError for
    a file that is not an export; reports every entry's outcome or error otherwise."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise PromptImportError(f"Not a prompt export of format {FORMAT_VERSION}.")
    entries = data.get("templates")
    if not isinstance(entries, list):
        raise PromptImportError("The export's templates must be a list.")
    if len(entries) > MAX_ENTRIES:
        raise PromptImportError(f"More than {MAX_ENTRIES} templates; split the file.")
    report = ImportReport()
    types = {t.key: t for t in DocumentType.objects.all()}
    with transaction.atomic():
        defaults = []
        for index, entry in enumerate(entries, start=1):
            result, template = import_entry(index, entry, types=types)
            report.entries.append(result)
            if template is not None and entry.get("isDefault") is True:
                defaults.append((result, template))
        for result, template in defaults:
            release_entry(result, template, user=user)
        report.applied = not dry_run and not report.errors
        if not report.applied:
            transaction.set_rollback(True)
    return report


def import_entry(
    index: int, entry: Any, *, types: dict[str, DocumentType]
) -> tuple[EntryResult, PromptTemplate | None]:
    """Create (or find unchanged) one entry's version; the result and the template, if any."""
    if not isinstance(entry, dict):
        return EntryResult(index, f"entry {index}", "error", "An entry is a JSON object."), None
    label = f"{entry.get('documentType')}@{entry.get('version')}"
    problem, values = entry_values(entry, types=types)
    if problem:
        return EntryResult(index, label, "error", problem), None
    doc_type = types[entry["documentType"]]
    existing = PromptTemplate.objects.filter(
        document_type=doc_type, version=values["version"]
    ).first()
    if existing is not None:
        changed = [f for f in CONTENT_FIELDS if getattr(existing, f) != values[f]]
        if changed:
            return EntryResult(
                index,
                label,
                "error",
                f"Version {values['version']} exists here with different content "
                f"({', '.join(changed)}); import it under a new version.",
            ), None
        return EntryResult(index, label, "unchanged"), existing
    template = PromptTemplate.objects.create(document_type=doc_type, **values)
    return EntryResult(index, label, "created"), template


def entry_values(entry: dict, *, types: dict[str, DocumentType]) -> tuple[str, dict[str, Any]]:
    """The entry's template field values, or what is wrong with it."""
    if entry.get("documentType") not in types:
        return f"Unknown document type {entry.get('documentType')!r}.", {}
    version = entry.get("version")
    if not isinstance(version, str) or not version.strip():
        return "The version is missing.", {}
    for name in ("system_prompt", "user_prompt"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            return f"{name} is missing or empty.", {}
    status = entry.get("status", TemplateStatus.DRAFT)
    if status not in TemplateStatus.values:
        return f"Unknown status {status!r} (one of {', '.join(TemplateStatus.values)}).", {}
    values: dict[str, Any] = {
        "version": version.strip(),
        "name": str(entry.get("name") or entry["documentType"]),
        "status": TemplateStatus.ARCHIVED if status == TemplateStatus.ARCHIVED else "draft",
        "system_prompt": lf(entry["system_prompt"]),
        "user_prompt": lf(entry["user_prompt"]),
        "model": entry.get("model", ""),
        "temperature": entry.get("temperature", 0.0),
        "max_tokens": entry.get("max_tokens", 800),
        "json_mode": entry.get("json_mode", True),
        "notes": lf(str(entry.get("notes") or "")),
    }
    if not isinstance(values["model"], str):
        return "model must be a string.", {}
    if isinstance(values["temperature"], bool) or not isinstance(
        values["temperature"], int | float
    ):
        return "temperature must be a number.", {}
    if not isinstance(values["max_tokens"], int) or values["max_tokens"] < 1:
        return "max_tokens must be a positive whole number.", {}
    if not isinstance(values["json_mode"], bool):
        return "json_mode must be true or false.", {}
    return "", values


def lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def release_entry(result: EntryResult, template: PromptTemplate, *, user) -> None:
    """Release an ``isDefault`` entry's version through the gate; a refusal is its error."""
    if template.is_default:
        return
    try:
        done = release(template, user=user, kind=ReleaseKind.IMPORT)
    except ValidationError as error:
        result.action, result.message = "error", " ".join(error.messages)
    else:
        result.action, result.message = "released", done.gate_message
