"""Scoring extraction against a test set (JSON Lines of {"id", "documentType", "rawTexts",
"expected"}), and a command line that measures the rules extractor without Django:

    python -m ocr.evaluation CASES.jsonl [--detect] [--json REPORT] [--show-wrong]
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ocr.normalize import without_spaces

Case = dict
ExtractFn = Callable[[Case], dict[str, str | None]]


def values_match(expected: str | None, got: str | None) -> bool:
    """Equal after NFKC, removing all white space and upper-casing; None matches only None."""
    if expected is None or got is None:
        return expected is None and got is None

    def canon(value: str) -> str:
        return without_spaces(unicodedata.normalize("NFKC", str(value))).upper()

    return canon(expected) == canon(got)


def load_cases(path: str | Path) -> list[Case]:
    """The cases of a JSON Lines file (blank lines skipped)."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def score_cases(
    cases: Iterable[Case],
    extract_fn: ExtractFn,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Run ``extract_fn`` on every case and score it against ``expected``.

    Returns {"fieldAccuracy", "documentAccuracy", "inventedRate" (values given where null was
    expected / nulls expected), "byDocumentType": {type: {"fieldAccuracy", "documentAccuracy",
    "cases", "byField": {key: accuracy}}}, "cases": [{"id", "documentType", "expected",
    "extracted", "correct", "wrongFields"}]}. ``progress`` is called with 1 after each case.
    """
    field_right = field_total = docs_right = docs_total = invented = nulls = 0
    per_type: dict[str, dict] = defaultdict(
        lambda: {"right": 0, "total": 0, "docs": 0, "docsRight": 0, "fields": defaultdict(list)}
    )
    results = []
    for case in cases:
        expected: dict[str, str | None] = case["expected"]
        extracted = extract_fn(case)
        wrong = []
        stats = per_type[case["documentType"]]
        for key, want in expected.items():
            got = extracted.get(key)
            ok = values_match(want, got)
            stats["fields"][key].append(ok)
            if not ok:
                wrong.append(key)
            if want is None:
                nulls += 1
                invented += got is not None
        field_total += len(expected)
        field_right += len(expected) - len(wrong)
        stats["total"] += len(expected)
        stats["right"] += len(expected) - len(wrong)
        stats["docs"] += 1
        stats["docsRight"] += not wrong
        docs_total += 1
        docs_right += not wrong
        results.append(
            {
                "id": case.get("id"),
                "documentType": case["documentType"],
                "expected": expected,
                "extracted": {key: extracted.get(key) for key in expected},
                "correct": not wrong,
                "wrongFields": wrong,
            }
        )
        if progress is not None:
            progress(1)

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 1.0

    return {
        "fieldAccuracy": ratio(field_right, field_total),
        "documentAccuracy": ratio(docs_right, docs_total),
        "inventedRate": ratio(invented, nulls) if nulls else 0.0,
        "byDocumentType": {
            doc: {
                "fieldAccuracy": ratio(s["right"], s["total"]),
                "documentAccuracy": ratio(s["docsRight"], s["docs"]),
                "cases": s["docs"],
                "byField": {k: ratio(sum(oks), len(oks)) for k, oks in s["fields"].items()},
            }
            for doc, s in sorted(per_type.items())
        },
        "cases": results,
    }


def rules_extract_fn(case: Case) -> dict[str, str | None]:
    """Extract a case with the rules extractor and the shipped field specs."""
    from ocr.rules import extract
    from prompts.document_types import FieldSpec, shipped_document_types

    specs = shipped_document_types().get(case["documentType"])
    if specs is None:
        specs = [FieldSpec(key=k, label=k, format="text") for k in case["expected"]]
    found = extract(document_type=case["documentType"], lines=case["rawTexts"], fields=specs)
    return {key: (c.value if c is not None else None) for key, c in found.items()}


def detection_accuracy(cases: Sequence[Case]) -> dict:
    """Share of cases whose type detect_document_type names, with the misses."""
    from ocr.rules import detect_document_type

    misses = []
    for case in cases:
        got, _ = detect_document_type(lines=case["rawTexts"])
        if got != case["documentType"]:
            misses.append({"id": case.get("id"), "expected": case["documentType"], "got": got})
    total = len(cases)
    return {
        "accuracy": round((total - len(misses)) / total, 4) if total else 1.0,
        "misses": misses,
    }


def format_report(report: dict) -> str:
    """The accuracy table of a score_cases report as text."""
    lines = [
        f"field accuracy     {report['fieldAccuracy']:.4f}",
        f"document accuracy  {report['documentAccuracy']:.4f}",
        f"invented rate      {report['inventedRate']:.4f}",
        "",
        f"{'document type':<18}{'cases':>6}{'fields':>9}{'docs':>8}",
    ]
    for doc, stats in report["byDocumentType"].items():
        lines.append(
            f"{doc:<18}{stats['cases']:>6}{stats['fieldAccuracy']:>9.4f}"
            f"{stats['documentAccuracy']:>8.4f}"
        )
        for key, acc in stats["byField"].items():
            if acc < 1.0:
                lines.append(f"    {key:<24}{acc:.4f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: score the rules extractor on a JSON Lines test set."""
    parser = argparse.ArgumentParser(prog="python -m ocr.evaluation", description=__doc__)
    parser.add_argument("cases", help="JSON Lines test set")
    parser.add_argument("--detect", action="store_true", help="also measure type detection")
    parser.add_argument("--json", dest="json_path", help="write the full report here")
    parser.add_argument("--show-wrong", action="store_true", help="print every wrong field")
    args = parser.parse_args(argv)

    cases = load_cases(args.cases)
    report = score_cases(cases, rules_extract_fn)
    print(format_report(report))
    if args.detect:
        detection = detection_accuracy(cases)
        report["detection"] = detection
        print(f"\ntype detection     {detection['accuracy']:.4f}")
        for miss in detection["misses"]:
            print(f"    {miss['id']}: expected {miss['expected']}, got {miss['got']}")
    if args.show_wrong:
        for case in report["cases"]:
            for key in case["wrongFields"]:
                print(
                    f"{case['id']} {key}: expected {case['expected'][key]!r}, "
                    f"got {case['extracted'][key]!r}"
                )
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
