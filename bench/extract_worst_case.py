"""How long one item at the size limits holds the event loop, at worst, against the 50 ms budget.

    .venv/bin/python bench/extract_worst_case.py [--repeats 3] [--top 8]

An analysis's CPU work (type detection, the built-in extractor, the checks) runs on the event
loop, so while one item is worked on no other request of its worker moves. This times that
work, through ``ocr.pipeline.analyze`` with the built-in extractor and nothing cached or logged,
on inputs at the limits of one item (QV_MAX_TOTAL_CHARS characters, in the shapes QV_MAX_LINES
and QV_MAX_LINE_CHARS allow, from 10 lines of 2,000 to 200 of 100): the text of the first sample
case of each type (datasets/sample.jsonl), four kinds of noise (digits, CJK, capitals and
digits, MRZ-like lines), labels each followed by a text it refuses and its neighbour takes, and
every label of the type it is sent as, each followed by a text
(a letter, a name, a year), repeated to fill the shape, each sent as every document type and
without a type. Each input is timed ``--repeats`` times and its fastest time kept, in CPU time of
the thread: on a shared machine the wall-clock time also counts whatever else ran meanwhile. It
prints the slowest inputs and, last, the worst time as a ratio to the budget: 1.0 or less means
no item holds the loop past 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 0.050
SHAPES = ((10, 2000), (20, 1000), (50, 400), (100, 200), (200, 100))
NOISE_SEED = 7
# What follows each label in the inputs made of labels: a text no reader takes, a name, a year.
LABEL_FILLERS = ("x", "张三", "2020年")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["QV_PROVIDER"] = "rules"
    import django

    django.setup()


def contents() -> dict[str, list[str]]:
    """{name: pieces of text}: each type's first sample case, and noise."""
    from ocr.casegen import SAMPLE_SET
    from ocr.evaluation import load_cases

    found: dict[str, list[str]] = {}
    for case in load_cases(SAMPLE_SET):
        found.setdefault(case["documentType"], case["rawTexts"])
    rng = random.Random(NOISE_SEED)

    def noise(alphabet: str, low: int, high: int) -> list[str]:
        return [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high))) for _ in range(400)
        ]

    cjk = "".join(chr(code) for code in range(0x4E00, 0x9FA6))
    found["digits"] = noise("0123456789", 4, 20)
    found["cjk"] = noise(cjk, 2, 12)
    found["capitals"] = noise("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 5, 25)
    # Labels that refuse the text after them, which labels near them would take: every waiting
    # label may pair with every year near it.
    found["refused texts"] = ["营业期限", "x", "名称", "2020年"]
    found["mrz"] = [
        "P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<",
        "E123456784CHN9001011M3001015<<<<<<<<<<<<<<02",
    ]
    return found


def labelled(document_type: str | None, filler: str) -> list[str]:
    """Every label the built-in extractor knows for the type, each followed by ``filler``."""
    from ocr.rules.doctypes import generic_rule, rules_for
    from prompts.document_types import shipped_document_types

    specs = list(shipped_document_types()[document_type or "businessLicense"])
    rules, _ = rules_for(document_type or "businessLicense", specs)
    labels = [label for rule in [*rules, *map(generic_rule, specs)] for label in rule.labels]
    return [piece for label in labels for piece in (label, filler)]


def filled(pieces: list[str], *, lines: int, width: int) -> list[str]:
    """``lines`` lines of exactly ``width`` characters: the pieces in turn, a space between."""
    out, index = [], 0
    for _ in range(lines):
        line = ""
        while len(line) < width:
            line += pieces[index % len(pieces)] + " "
            index += 1
        out.append(line[:width])
    return out


async def analyse(lines: list[str], document_type: str | None, configuration) -> None:
    from ocr import pipeline
    from ocr.exceptions import AnalysisError

    item = pipeline.AnalyzeInput(
        raw_texts=tuple(lines), document_type=document_type, use_cache=False, record=False
    )
    # A type that cannot be detected is an answer too.
    with contextlib.suppress(AnalysisError):
        await pipeline.analyze(api_key=None, item=item, configuration=configuration)


def fastest(lines: list[str], document_type: str | None, configuration, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        started = time.thread_time()
        asyncio.run(analyse(lines, document_type, configuration))
        best = min(best, time.thread_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    from prompts.configuration import get_configuration
    from prompts.document_types import shipped_document_types

    configuration = get_configuration()
    types: list[str | None] = [*shipped_document_types(), None]
    limit = settings.QV_MAX_TOTAL_CHARS
    inputs = [
        (name, lines, width, document_type, filled(pieces, lines=lines, width=width))
        for name, pieces in contents().items()
        for lines, width in SHAPES
        for document_type in types
    ]
    inputs += [
        (f"labels, {filler}", lines, width, document_type, filled(pieces, lines=lines, width=width))
        for filler in LABEL_FILLERS
        for document_type in types
        for pieces in [labelled(document_type, filler)]
        for lines, width in SHAPES
    ]
    timings = []
    for name, lines, width, document_type, text in inputs:
        assert sum(map(len, text)) == lines * width == limit
        seconds = fastest(text, document_type, configuration, args.repeats)
        timings.append((seconds, name, lines, width, document_type or "(detected)"))
    timings.sort(reverse=True)
    print(f"{len(timings)} inputs of {limit} characters, fastest of {args.repeats} runs each")
    print(f"{'ms':>8}  {'text':<16} {'shape':<9} sent as")
    for seconds, name, lines, width, sent_as in timings[: args.top]:
        print(f"{seconds * 1000:8.1f}  {name:<16} {lines}x{width:<6} {sent_as}")
    worst = timings[0][0]
    print(f"worst {worst * 1000:.1f} ms; ratio to the {BUDGET_SECONDS * 1000:.0f} ms budget:")
    print(f"{worst / BUDGET_SECONDS:.2f}")


if __name__ == "__main__":
    main()
