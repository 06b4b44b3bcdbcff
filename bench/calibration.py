"""Calibrating the built-in extractor's confidence, and how well it is calibrated.

    .venv/bin/python bench/calibration.py fit [--per-type 200] [--seed 11] [--no-report]
    .venv/bin/python bench/calibration.py report [--per-type 200] [--seed 99] [--real-ocr] [--raw]

``fit`` makes generated cases (ocr/casegen) with ``--seed`` (plain) and ``--seed`` + 1 (in the
layouts of real OCR engines), runs the rules-only answer over them without calibration, fits an
isotonic regression (pool-adjacent-violators) of "the value is right" on the extractor's
confidence per kind of field (checked codes, dates, choices, text) and provenance of the value
(``ocr.confidence.Provenance``: label, check digit, MRZ, shape, repaired, failed check, conflict),
and writes the steps to ocr/data/calibration.json. Each step is given the lower bound of a
one-sided 95% interval of its rate right; it reaches the confident band (0.9 and more) only where
that bound is at least 0.99, else it stays at 0.899 at most; repaired values stay at 0.85 at most
and values failing their check at 0.3 at most. It then prints the held-out report of both
layouts (seed 99) unless ``--no-report``.

``report`` runs the rules-only answer, calibrated as the service answers, over held-out cases made
with another seed, and prints per kind, per kind and provenance, and overall:

- accuracy: how often a value given is right (a value where the case holds none is wrong);
- ECE, the expected calibration error: the values sorted into ten bins of confidence, the mean
  gap between a bin's confidence and how often its values are right, weighted by its share;
- precision at >= 0.9: how often a value given with confidence 0.9 or more is right, and how many
  values that is;
- invented: values given where the case holds none.

Only non-null values count (a null field carries no confidence).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
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
# A step reaches the confident band (0.9 and more) only where that lower bound is at least this
# (the band's promise is this precision): a few hundred values, nearly all right. Other steps
# stay just below the band, whatever the extractor's own belief was.
CONFIDENT_PRECISION = 0.99
# A step holds at least this many values where its kind and provenance have that many.
MIN_STEP = 30


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()


# (confidence, right, invented: a value where the case holds none)
Point = tuple[float, bool, bool]


def observations(cases: list[dict], *, calibrate: bool) -> dict[tuple[str, str], list[Point]]:
    """{(field kind, provenance): [Point, ...]} of the rules-only answers to ``cases``; a value
    where the case holds none counts as wrong."""
    from ocr.analysis import score
    from ocr.confidence import field_kind, provenance
    from ocr.evaluation import values_match
    from ocr.providers.base import Document
    from ocr.providers.rules import RulesProvider
    from ocr.validators import Check
    from prompts.configuration import TypeConfig
    from prompts.document_types import shipped_document_types

    types = shipped_document_types()
    out: dict[tuple[str, str], list[Point]] = defaultdict(list)
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
            if value is None:
                continue
            checked = analysis.validation.get(spec.key)
            check = None
            if checked is not None:
                check = Check(checked["valid"], repaired=checked.get("repaired", False))
            origin = provenance(source=result.sources.get(spec.key), check=check)
            expected = case["expected"].get(spec.key)
            right = values_match(expected, value)
            confidence = analysis.field_confidence[spec.key]
            out[field_kind(spec), origin].append((confidence, right, expected is None))
    return out


def calibration_steps(points: list[Point], *, origin: str) -> list[list[float]]:
    """The steps of one kind and provenance: [upper raw confidence, calibrated confidence, values
    right, values], rising. A step reaches the confident band only with the evidence for it; a
    failed check and a repair keep their caps; a value no label or check anchors reaches the band
    only where the extractor itself was that sure (fitted apart below and above 0.9)."""
    from ocr.confidence import (
        BELOW_CONFIDENT,
        FAILED_CHECK_CEILING,
        REPAIRED_CEILING,
        Provenance,
    )

    if origin in (Provenance.SHAPE, Provenance.CONFLICT):
        below = [p for p in points if p[0] < CONFIDENT]
        parts = [(below, BELOW_CONFIDENT), ([p for p in points if p[0] >= CONFIDENT], 1.0)]
    else:
        caps = {Provenance.INVALID: FAILED_CHECK_CEILING, Provenance.REPAIRED: REPAIRED_CEILING}
        parts = [(points, caps.get(origin, 1.0))]
    steps, floor = [], 0.0
    for part, ceiling in parts:
        for upper, right, count in isotonic(part):
            lower = wilson_lower(right, count)
            rate = lower if lower >= CONFIDENT_PRECISION else min(lower, BELOW_CONFIDENT)
            floor = max(floor, min(rate, MAX_CALIBRATED, ceiling))
            steps.append([round(upper, 4), round(floor, 4), right, count])
    return steps


def isotonic(points: list[Point]) -> list[tuple[float, int, int]]:
    """Pool-adjacent-violators: [(upper confidence of a step, values right, values)], in rising
    order of confidence and of rate right."""
    by_x: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for x, right, _ in points:
        by_x[x][0] += int(right)
        by_x[x][1] += 1
    blocks: list[list[float]] = []  # [upper x, right, count]
    for x in sorted(by_x):
        blocks.append([x, *by_x[x]])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            upper, right, count = blocks.pop()
            blocks[-1] = [upper, blocks[-1][1] + right, blocks[-1][2] + count]
    # A step of a few values says little: it joins the neighbour whose rate is nearest (joining
    # neighbours keeps the rates rising).
    while len(blocks) > 1 and min(block[2] for block in blocks) < MIN_STEP:
        i = min(range(len(blocks)), key=lambda j: blocks[j][2])
        rate = blocks[i][1] / blocks[i][2]
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(blocks)]
        j = min(neighbours, key=lambda n: abs(blocks[n][1] / blocks[n][2] - rate))
        low, high = sorted((i, j))
        blocks[low : high + 1] = [
            [blocks[high][0], blocks[low][1] + blocks[high][1], blocks[low][2] + blocks[high][2]]
        ]
    return [(upper, int(right), int(count)) for upper, right, count in blocks]


def wilson_lower(right: float, count: float) -> float:
    """The lower bound of the Wilson score interval of a rate (one-sided, Z)."""
    rate = right / count
    centre = rate + Z * Z / (2 * count)
    spread = Z * math.sqrt(rate * (1 - rate) / count + Z * Z / (4 * count * count))
    return (centre - spread) / (1 + Z * Z / count)


def ece(points: list[Point]) -> float:
    """Expected calibration error over BINS equal bins of confidence."""
    bins: dict[int, list[Point]] = defaultdict(list)
    for point in points:
        bins[min(int(point[0] * BINS), BINS - 1)].append(point)
    total = len(points)
    return sum(
        len(group)
        / total
        * abs(sum(p[0] for p in group) / len(group) - sum(p[1] for p in group) / len(group))
        for group in bins.values()
    )


def precision(points: list[Point]) -> tuple[float, int]:
    confident = [right for confidence, right, _ in points if confidence >= CONFIDENT]
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
    kinds: dict[str, dict[str, list[list[float]]]] = defaultdict(dict)
    for (kind, origin), values in sorted(points.items()):
        kinds[kind][origin] = calibration_steps(values, origin=origin)
    table = {
        "about": "Isotonic calibration of the built-in extractor's confidence per kind of field "
        "and provenance of the value: [upper raw confidence, calibrated confidence, values "
        "right, values] steps in rising order. A step is at 0.9 or more only where the lower "
        f"bound of a one-sided 95% interval of its rate right is at least {CONFIDENT_PRECISION}.",
        "fittedOn": f"generated cases, seeds {args.seed} (plain) and {args.seed + 1} (real OCR "
        f"layouts), {args.per_type} of each type each; bench/calibration.py fit",
        "kinds": kinds,
    }
    text = json.dumps(table, ensure_ascii=False, indent=1)
    # One step a line: the innermost lists on one line each.
    text = re.sub(r"\[\s+([^\[\]]+?)\s+\]", lambda m: f"[{' '.join(m[1].split())}]", text)
    CALIBRATION_PATH.write_text(text + "\n", "utf-8")
    print(
        f"Wrote {CALIBRATION_PATH.relative_to(ROOT)} from {sum(map(len, points.values()))} values."
    )
    if not args.no_report:
        from ocr.confidence import calibration_table

        calibration_table.cache_clear()
        for real in (False, True):
            print()
            report(argparse.Namespace(per_type=200, seed=99, real_ocr=real, raw=False))


def report(args: argparse.Namespace) -> None:
    cases = cases_for(per_type=args.per_type, seed=args.seed, real=args.real_ocr)
    points = observations(cases, calibrate=not args.raw)
    by_kind: dict[str, list[Point]] = defaultdict(list)
    for (kind, origin), values in sorted(points.items()):
        by_kind[kind] += values
        by_kind[f"{kind}/{origin}"] = values
    everything = [p for values in points.values() for p in values]
    width = max(map(len, by_kind))
    layouts = ", real OCR layouts" if args.real_ocr else ""
    print(f"{len(cases)} held-out cases (seed {args.seed}{layouts})")
    print(f"{'kind/provenance':{width}}  values  accuracy   ECE   precision@0.9 (values)  invented")
    for name, values in [*sorted(by_kind.items()), ("all", everything)]:
        right = sum(p[1] for p in values) / len(values)
        share, count = precision(values)
        invented = sum(p[2] for p in values)
        figures = f"{len(values):6d}  {right:8.4f}  {ece(values):.4f}  {share:.4f} ({count})"
        print(f"{name:{width}}  {figures:44}  {invented}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fitting = commands.add_parser("fit", help="fit and write ocr/data/calibration.json")
    fitting.add_argument("--per-type", type=int, default=200)
    fitting.add_argument("--seed", type=int, default=11)
    fitting.add_argument(
        "--no-report", action="store_true", help="skip the held-out report after fitting"
    )
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
