"""Test sets: cases of OCR lines with the fields they should give, to measure templates on.

A case is stored as the spec's JSON Lines format holds it (``{"id", "documentType", "rawTexts",
"expected"}``); ``TestSet.import_jsonl`` and ``TestSet.export_jsonl`` read and write that format.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction

# Bounds on what one imported case may hold, so that a wrong file fails early and clearly.
MAX_CASE_LINES = 200
MAX_LINE_CHARS = 2_000
MAX_CASES = 10_000


class TestSet(models.Model):
    """A named set of cases for one or more document types."""

    __test__ = False  # not a pytest class

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def document_types(self) -> list[str]:
        """The keys of the types its cases are of, sorted."""
        return sorted(set(self.cases.values_list("document_type", flat=True)))

    def as_cases(self, *, document_type: str | None = None) -> list[dict]:
        """Its cases in the spec's format, in order; only those of ``document_type`` if given."""
        cases = self.cases.all()
        if document_type is not None:
            cases = cases.filter(document_type=document_type)
        return [case.as_dict() for case in cases]

    def export_jsonl(self) -> str:
        """Its cases as JSON Lines, one case a line."""
        return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in self.as_cases())

    def import_jsonl(self, text: str, *, known_types: Iterable[str]) -> int:
        """Replace its cases with those of ``text`` (JSON Lines); returns how many.

        Raises ValidationError listing every bad line (by number) and imports nothing then.
        """
        cases, errors = parse_jsonl(text, known_types=set(known_types))
        if errors:
            raise ValidationError(errors)
        with transaction.atomic():
            self.cases.all().delete()
            TestCase.objects.bulk_create(
                TestCase(test_set=self, position=position, **case)
                for position, case in enumerate(cases)
            )
            self.save(update_fields=["updated_at"])
        return len(cases)


def parse_jsonl(text: str, *, known_types: set[str]) -> tuple[list[dict], list[str]]:
    """The cases of a JSON Lines text as TestCase field values, and an error per bad line."""
    cases: list[dict] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(cases) >= MAX_CASES:
            errors.append(f"More than {MAX_CASES} cases; split the file.")
            break
        try:
            case = json.loads(line)
        except ValueError as error:
            errors.append(f"Line {number}: not JSON ({error}).")
            continue
        problem = case_problem(case, known_types=known_types, seen=seen)
        if problem:
            errors.append(f"Line {number}: {problem}")
            continue
        seen.add(str(case["id"]))
        cases.append(
            {
                "case_id": str(case["id"]),
                "document_type": case["documentType"],
                "raw_texts": case["rawTexts"],
                "expected": case.get("expected") or {},
            }
        )
    if not cases and not errors:
        errors.append("The file holds no case.")
    return cases, errors


def case_problem(case: object, *, known_types: set[str], seen: set[str]) -> str:
    """What is wrong with one parsed case, or an empty string."""
    if not isinstance(case, dict):
        return "a case is a JSON object."
    missing = {"id", "documentType", "rawTexts"} - set(case)
    if missing:
        return f"missing {', '.join(sorted(missing))}."
    if str(case["id"]) in seen:
        return f"the id {case['id']!r} is used twice."
    if case["documentType"] not in known_types:
        return f"unknown document type {case['documentType']!r}."
    lines = case["rawTexts"]
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines) or not lines:
        return "rawTexts must be a non-empty list of strings."
    if len(lines) > MAX_CASE_LINES or any(len(x) > MAX_LINE_CHARS for x in lines):
        return f"rawTexts holds at most {MAX_CASE_LINES} lines of {MAX_LINE_CHARS} characters."
    expected = case.get("expected", {})
    if not isinstance(expected, dict) or not all(
        v is None or isinstance(v, str) for v in expected.values()
    ):
        return "expected must map field keys to strings or null."
    return ""


class TestCase(models.Model):
    """One case: the OCR lines of a document and the fields it should give."""

    __test__ = False  # not a pytest class

    test_set = models.ForeignKey(TestSet, models.CASCADE, related_name="cases")
    case_id = models.CharField(max_length=200, help_text="The case's id in the JSON Lines file.")
    document_type = models.CharField(max_length=64)
    raw_texts = models.JSONField(help_text="The OCR lines, a JSON list of strings.")
    expected = models.JSONField(
        default=dict, blank=True, help_text="Field key to expected value (null: absent)."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["test_set", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["test_set", "case_id"], name="unique_case_id_per_test_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test_set.name}/{self.case_id}"

    def clean(self) -> None:
        known = apps.get_model("prompts", "DocumentType").objects.values_list("key", flat=True)
        problem = case_problem(self.as_dict(), known_types=set(known), seen=set())
        if problem:
            raise ValidationError(problem)

    def as_dict(self) -> dict:
        """The case in the spec's JSON Lines format."""
        return {
            "id": self.case_id,
            "documentType": self.document_type,
            "rawTexts": self.raw_texts,
            "expected": self.expected,
        }
