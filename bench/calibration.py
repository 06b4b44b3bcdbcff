"""Calibrating the built-in extractor's confidence, and how well it is calibrated.

    .venv/bin/python bench/calibration.py fit [--per-type 300] [--seed 11]
    .venv/bin/python bench/calibration.py report [--per-type 200] [--seed 99] [--real-ocr]

``fit`` makes generated cases (ocr/casegen, plain and in the layouts of real OCR engines) with
``--seed``, runs the rules-only answer over them without calibration, fits an isotonic regression
(pool-adjacent-violators) of "the value is right" on the confidence per kind of field (checked
codes, dates, choices, text), and writes the steps to ocr/data/calibration.json.

``report`` runs the rules-only answer, calibrated as the service answers, over held-out cases made
with another seed, and prints per kind and overall:

- ECE, the expected calibration error: the values sorted into ten bins of confidence, the mean
  gap between a bin's confidence and how often its values are right, weighted by its share;
- precision at >= 0.9: how often a value given with confidence 0.9 or more is right, and how many
  values that is.

Only non-null values count (a null field carries no confidence).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Confidence bins of the calibration error, and the band the contract calls confident.
BINS = 10
CONFIDENT = 0.9
# Each step is given the lower bound of a one-sided 95% (Wilson) interval of its rate, so that a
# step of a few values never claims certainty; never more than MAX_CALIBRATED.
Z = 1.645
MAX_CALIBRATED = 0.995
# A step reaches the confident band (0.9 and more) only where its values were right this often
# (the band's promise is this precision) and the extractor itself was that sure of them: a value
# it read without an anchor (a name line by its shape, a value by its place) is right on
# generated cases but is where real OCR output differs most. Other steps stay just below it.
CONFIDENT_PRECISION = 0.99
BELOW_CONFIDENT = 0.899
# A step of fewer values than this stays below the band whatever its rate.
MIN_CONFIDENT_STEP = 30


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()


def observations(cases: list[dict], *, calibrate: bool) -> dict[str, list[tuple[float, bool]]]:
    """{field kind: [(confidence, right), ...]} of the rules-only answers to ``cases``."""
    from ocr.analysis import score
    from ocr.confidence import field_kind
    from ocr.evaluation import values_match
    from ocr.providers.base import Document
    from ocr.providers.rules import RulesProvider
    from prompts.configuration import TypeConfig
    from prompts.document_types import shipped_document_types

    types = shipped_document_types()
    out: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for case in cases:
        specs = tuple(types[case["documentType"]])
        config = TypeConfig(key=case["documentType"], name="", fields=specs, template=None)
        lines = tuple(case["rawTexts"])
        document = Document(document_type=config.key, fields=specs, lines=lines)
        result = RulesProvider().extract_sync(document=document)
        analysis = score(
            type_config=config,
            template=None,
            lines=lines,
            result=result,
            cost=0,
            warnings=[],
            calibrate=calibrate,
        )
        for spec in specs:
            value = analysis.fields[spec.key]
            if value is not None:
                right = values_match(case["expected"].get(spec.key), value)
                out[field_kind(spec)].append((analysis.field_confidence[spec.key], right))
    return out


def calibration_steps(points: list[tuple[float, bool]]) -> list[tuple[float, float]]:
    """The steps of one kind: fitted apart below and above the confident band's edge, so that
    no value the extractor was less than 0.9 sure of is pooled with the ones it was sure of."""
    below = isotonic([p for p in points if p[0] < CONFIDENT], confident=False)
    above = isotonic([p for p in points if p[0] >= CONFIDENT], confident=True)
    floor = max((y for _, y in below), default=0.0)
    return below + [(x, max(y, floor)) for x, y in above]


def isotonic(points: list[tuple[float, bool]], *, confident: bool) -> list[tuple[float, float]]:
    """Pool-adjacent-violators: [(upper confidence of a step, rate right in it)], rising; a rate
    below CONFIDENT_PRECISION, or any where not ``confident``, stays below the band."""
    by_x: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for x, right in points:
        by_x[x][0] += int(right)
        by_x[x][1] += 1
    blocks: list[list[float]] = []  # [upper x, right, count]
    for x in sorted(by_x):
        blocks.append([x, *by_x[x]])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            upper, right, count = blocks.pop()
            blocks[-1] = [upper, blocks[-1][1] + right, blocks[-1][2] + count]
    steps, floor = [], 0.0
    for upper, right, count in blocks:
        rate = wilson_lower(right, count)
        doubtful = right / count < CONFIDENT_PRECISION or count < MIN_CONFIDENT_STEP
        if doubtful or not confident:
            rate = min(rate, BELOW_CONFIDENT)
        floor = max(floor, min(MAX_CALIBRATED, rate))
        steps.append((round(upper, 4), round(floor, 4)))
    return steps


def wilson_lower(right: float, count: float) -> float:
    """The lower bound of the Wilson score interval of a rate (one-sided, Z)."""
    rate = right / count
    centre = rate + Z * Z / (2 * count)
    spread = Z * math.sqrt(rate * (1 - rate) / count + Z * Z / (4 * count * count))
    return (centre - spread) / (1 + Z * Z / count)


def ece(points: list[tuple[float, bool]]) -> float:
    """Expected calibration error over BINS equal bins of confidence."""
    bins: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for confidence, right in points:
        bins[min(int(confidence * BINS), BINS - 1)].append((confidence, right))
    total = len(points)
    return sum(
        len(group)
        / total
        * abs(sum(c for c, _ in group) / len(group) - sum(r for _, r in group) / len(group))
        for group in bins.values()
    )


def precision(points: list[tuple[float, bool]]) -> tuple[float, int]:
    confident = [right for confidence, right in points if confidence >= CONFIDENT]
    return (sum(confident) / len(confident) if confident else 1.0), len(confident)


def cases_for(*, per_type: int, seed: int, real: bool | None) -> list[dict]:
    """Generated cases: plain, in real engines' layouts, or (None) both halves."""
    from ocr.casegen import DOC_TYPES, generate_cases

    n = per_type * len(DOC_TYPES)
    if real is None:
        return generate_cases(n, seed=seed) + generate_cases(n, seed=seed + 1, real=True)
    return generate_cases(n, seed=seed, real=real)


def fit(args: argparse.Namespace) -> None:
    from ocr.confidence import CALIBRATION_PATH

    points = observations(
        cases_for(per_type=args.per_type, seed=args.seed, real=None), calibrate=False
    )
    table = {
        "about": "Isotonic calibration of the built-in extractor's confidence per kind of field: "
        "[upper raw confidence, calibrated confidence] steps in rising order.",
        "fittedOn": f"generated cases, seeds {args.seed} (plain) and {args.seed + 1} (real OCR "
        f"layouts), {args.per_type} of each type each; bench/calibration.py fit",
        "kinds": {kind: calibration_steps(values) for kind, values in sorted(points.items())},
    }
    CALIBRATION_PATH.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(
        f"Wrote {CALIBRATION_PATH.relative_to(ROOT)} from {sum(map(len, points.values()))} values."
    )


def report(args: argparse.Namespace) -> None:
    cases = cases_for(per_type=args.per_type, seed=args.seed, real=args.real_ocr)
    points = observations(cases, calibrate=not args.raw)
    kind_width = max(len(kind) for kind in points) if points else 5
    layouts = ", real OCR layouts" if args.real_ocr else ""
    print(f"{len(cases)} held-out cases (seed {args.seed}{layouts})")
    print(f"{'kind':{kind_width}}  values  accuracy   ECE   precision@0.9 (values)")
    everything = [p for values in points.values() for p in values]
    for kind, values in [*sorted(points.items()), ("all", everything)]:
        right = sum(r for _, r in values) / len(values)
        share, count = precision(values)
        figures = f"{len(values):6d}  {right:8.4f}  {ece(values):.4f}  {share:.4f} ({count})"
        print(f"{kind:{kind_width}}  {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fitting = commands.add_parser("fit", help="fit and write ocr/data/calibration.json")
    fitting.add_argument("--per-type", type=int, default=200)
    fitting.add_argument("--seed", type=int, default=11)
    reporting = commands.add_parser("report", help="ECE and precision on held-out cases")
    reporting.add_argument("--per-type", type=int, default=200)
    reporting.add_argument("--seed", type=int, default=99)
    reporting.add_argument("--real-ocr", action="store_true")
    reporting.add_argument("--raw", action="store_true", help="without the calibration")
    args = parser.parse_args()
    setup_django()
    {"fit": fit, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
