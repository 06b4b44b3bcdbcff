"""Run a test set through the extraction and print field accuracy per document type and field."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ocr import pipeline
from ocr.analysis import Analysis
from ocr.evaluation import score_cases
from ocr.exceptions import AnalysisError
from prompts.configuration import get_configuration
from prompts.models import PromptTemplate


class Command(BaseCommand):
    help = "Evaluate the extraction on a JSON Lines test set (see the API contract's format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cases", help="JSON Lines file, one case a line.")
        parser.add_argument("--template", type=int, help="Evaluate this prompt template id.")
        parser.add_argument("--json", dest="report", help="Write the full report to this file.")
        parser.add_argument(
            "--detect",
            action="store_true",
            help="Leave documentType out and let the service decide.",
        )

    def handle(
        self, *args, cases: str, template: int | None, report: str | None, detect: bool, **options
    ) -> None:
        loaded = load_cases(Path(cases))
        chosen = None
        if template is not None:
            chosen = (
                PromptTemplate.objects.filter(pk=template).select_related("document_type").first()
            )
            if chosen is None:
                raise CommandError(f"No prompt template with id {template}.")
            loaded = [c for c in loaded if c["documentType"] == chosen.document_type.key]
            if not loaded:
                raise CommandError(f"No case of type {chosen.document_type.key} in {cases}.")

        configuration = get_configuration()
        extracted: dict[str, dict[str, Any]] = {}
        detected: dict[str, str | None] = {}
        spend = Spend()
        for case in tqdm(loaded, desc="Evaluating", unit="case", disable=None):
            item = pipeline.AnalyzeInput(
                raw_texts=tuple(case["rawTexts"]),
                document_type=None if detect else case["documentType"],
                use_cache=False,
                template_id=chosen.pk if chosen else None,
            )
            try:
                analysis = async_to_sync(pipeline.analyze)(
                    api_key=None, item=item, configuration=configuration
                )
            except AnalysisError as error:
                extracted[case["id"]] = {}
                detected[case["id"]] = None
                self.stderr.write(f"{case['id']}: {error.code}: {error.message}")
                continue
            detected[case["id"]] = analysis.document_type
            extracted[case["id"]] = analysis.fields
            spend.add(analysis)

        result = score_cases(loaded, lambda case: extracted[case["id"]])
        if detect:
            right = sum(detected[c["id"]] == c["documentType"] for c in loaded)
            result["typeDetectionAccuracy"] = right / len(loaded)
        result |= spend.as_report()
        self.print_table(result)
        if report:
            Path(report).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
            self.stdout.write(f"Report written to {report}.")

    def print_table(self, result: dict[str, Any]) -> None:
        write = self.stdout.write
        write(f"{'type / field':<34}{'accuracy':>10}")
        for type_key, summary in result["byDocumentType"].items():
            write(f"{type_key:<34}{summary['fieldAccuracy']:>10.4f}   ({summary['cases']} cases)")
            for field_key, accuracy in summary["byField"].items():
                write(f"  {field_key:<32}{accuracy:>10.4f}")
        write(f"{'field accuracy':<34}{result['fieldAccuracy']:>10.4f}")
        write(f"{'document accuracy':<34}{result['documentAccuracy']:>10.4f}")
        write(f"{'invented values (of null fields)':<34}{result['inventedRate']:>10.4f}")
        if "typeDetectionAccuracy" in result:
            write(f"{'type detection':<34}{result['typeDetectionAccuracy']:>10.4f}")
        write(f"{'providers':<34}{counted(result['providers'])}")
        write(f"{'models':<34}{counted(result['models']) or '-'}")
        tokens = result["tokens"]
        write(f"{'tokens (prompt + completion)':<34}{tokens['prompt']} + {tokens['completion']}")
        write(f"{'cost (USD, at the model prices)':<34}{result['cost']:.6f}")


def counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} ({count})" for name, count in counts.items())


class Spend:
    """What answered the cases and what it cost: analyses by provider and by model, the model's
    tokens and their cost at the prices staff set."""

    def __init__(self) -> None:
        self.providers: Counter[str] = Counter()
        self.models: Counter[str] = Counter()
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost = Decimal(0)

    def add(self, analysis: Analysis) -> None:
        self.providers[analysis.provider] += 1
        if analysis.model:
            self.models[analysis.model] += 1
        self.prompt_tokens += analysis.usage.prompt_tokens
        self.completion_tokens += analysis.usage.completion_tokens
        self.cost += analysis.cost

    def as_report(self) -> dict[str, Any]:
        return {
            "providers": dict(self.providers.most_common()),
            "models": dict(self.models.most_common()),
            "tokens": {
                "prompt": self.prompt_tokens,
                "completion": self.completion_tokens,
                "total": self.prompt_tokens + self.completion_tokens,
            },
            "cost": float(self.cost),
        }


def load_cases(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error}") from error
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except ValueError as error:
            raise CommandError(f"{path}:{number}: not JSON ({error}).") from error
        if not isinstance(case, dict) or not {"id", "documentType", "rawTexts"} <= set(case):
            raise CommandError(f"{path}:{number}: a case needs id, documentType and rawTexts.")
        case.setdefault("expected", {})
        cases.append(case)
    if not cases:
        raise CommandError(f"{path} holds no case.")
    return cases
