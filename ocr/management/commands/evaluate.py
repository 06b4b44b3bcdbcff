"""Run a test set through the extraction and print field accuracy per document type and field.

Two modes: a JSON Lines file (``evaluate CASES.jsonl [--template T]``), or a stored test set with
a template (``evaluate --template TYPE@VERSION --testset NAME [--save]``; ``--save`` stores the
run, as the admin's runs are stored). Neither enters the live request log.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ocr import evaluation_runs, pipeline
from ocr.analysis import Analysis
from ocr.evaluation import score_cases
from ocr.exceptions import AnalysisError
from prompts.configuration import get_configuration
from prompts.models import EvaluationStatus, PromptTemplate, TestSet


class Command(BaseCommand):
    help = "Evaluate the extraction on a JSON Lines test set (see the API contract's format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cases", nargs="?", help="JSON Lines file, one case a line.")
        parser.add_argument(
            "--template", help="Evaluate this prompt template: TYPE@VERSION or its id."
        )
        parser.add_argument("--testset", help="Evaluate on this stored test set (by name).")
        parser.add_argument("--save", action="store_true", help="Store the run (with --testset).")
        parser.add_argument("--json", dest="report", help="Write the full report to this file.")
        parser.add_argument(
            "--detect",
            action="store_true",
            help="Leave documentType out and let the service decide.",
        )

    def handle(
        self,
        *args,
        cases: str | None,
        template: str | None,
        report: str | None,
        detect: bool,
        testset: str | None,
        save: bool,
        **options,
    ) -> None:
        if testset is not None:
            if cases is not None:
                raise CommandError("Name either a JSON Lines file or --testset, not both.")
            self.evaluate_test_set(template=template, testset=testset, save=save, report=report)
            return
        if cases is None:
            raise CommandError("Name a JSON Lines file, or --testset NAME with --template.")
        loaded = load_cases(Path(cases))
        chosen = None
        if template is not None:
            chosen = named_template(template)
            loaded = [c for c in loaded if c["documentType"] == chosen.document_type.key]
            if not loaded:
                raise CommandError(f"No case of type {chosen.document_type.key} in {cases}.")

        configuration = get_configuration()
        extracted: dict[str, dict[str, Any]] = {}
        detected: dict[str, str | None] = {}
        spend = Spend()
        # Cases the model gave no usable answer for (failed, or answered by the fallback).
        model_failures = 0
        uses_model = pipeline.uses_model()
        for case in tqdm(loaded, desc="Evaluating", unit="case", disable=None):
            item = pipeline.AnalyzeInput(
                raw_texts=tuple(case["rawTexts"]),
                document_type=None if detect else case["documentType"],
                use_cache=False,
                template_id=chosen.pk if chosen else None,
                record=False,
            )
            try:
                analysis = async_to_sync(pipeline.analyze)(
                    api_key=None, item=item, configuration=configuration
                )
            except AnalysisError as error:
                extracted[case["id"]] = {}
                detected[case["id"]] = None
                self.stderr.write(f"{case['id']}: {error.code}: {error.message}")
                model_failures += 1
                continue
            model_failures += uses_model and analysis.provider != evaluation_runs.MODEL_PROVIDER
            detected[case["id"]] = analysis.document_type
            extracted[case["id"]] = analysis.fields
            spend.add(analysis)

        result = score_cases(loaded, lambda case: extracted[case["id"]])
        result["modelFailures"] = model_failures
        if detect:
            right = sum(detected[c["id"]] == c["documentType"] for c in loaded)
            result["typeDetectionAccuracy"] = right / len(loaded)
        result |= spend.as_report()
        self.print_table(result)
        if report:
            Path(report).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
            self.stdout.write(f"Report written to {report}.")

    def evaluate_test_set(
        self, *, template: str | None, testset: str, save: bool, report: str | None
    ) -> None:
        """Evaluate a template on a stored test set; with ``save``, store the run."""
        if template is None:
            raise CommandError("--testset needs --template TYPE@VERSION.")
        chosen = named_template(template)
        test_set = TestSet.objects.filter(name=testset).first()
        if test_set is None:
            raise CommandError(f"No test set named {testset!r}.")
        try:
            run = evaluation_runs.new_run(template=chosen, test_set=test_set)
        except ValueError as error:
            raise CommandError(str(error)) from error
        with tqdm(total=run.total_cases, desc="Evaluating", unit="case", disable=None) as bar:
            evaluation_runs.run_evaluation(
                run_id=run.pk, progress=lambda done: bar.update(done - bar.n)
            )
        run.refresh_from_db()
        if run.status != EvaluationStatus.FINISHED:
            raise CommandError(f"The evaluation failed: {run.error}")
        result = evaluation_runs.run_report(run)
        if not save:
            run.delete()
            result.pop("run")
        self.print_table(result)
        write = self.stdout.write
        write(f"{'model failures':<34}{result['modelFailures']:>10}")
        if save:
            write(f"Stored as evaluation run {run.pk}.")
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
        if "providers" in result:
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


def named_template(name: str) -> PromptTemplate:
    try:
        return PromptTemplate.objects.named(name)
    except PromptTemplate.DoesNotExist as error:
        raise CommandError(str(error)) from error


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
