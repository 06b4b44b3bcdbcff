"""The service behind a real (small) model against the built-in extractor alone, case by case.

    OPENAI_BASE_URL=http://127.0.0.1:8101/v1 OPENAI_API_KEY=local OPENAI_MODEL=NAME \\
        .venv/bin/python bench/small_model.py [--sample-per-type 1] [--real-per-type 1] \\
        [--seed 99] [--cases FILE] [--json REPORT]

It takes cases from the shipped sample set (``--sample-per-type`` of each type) and cases made by
ocr/casegen in the layouts of real OCR engines (``--real-per-type`` of each type, ``--seed``), or
the cases of ``--cases`` (JSON Lines in the test-set format), and answers each twice: by the
built-in extractor alone (provider ``rules``), and through the signed API with the model at
OPENAI_BASE_URL configured (any OpenAI-compatible endpoint; nothing is started), one request at a
time, without the result cache, on a scratch SQLite database. It prints, per case, the fields
right both ways, who answered, and every value given with confidence 0.9 or more that is wrong;
then the totals:

- accuracy ratio: fields right behind the model / fields right by the rules alone (1.0 or more:
  the model cost no accuracy);
- wrong at >= 0.9: values behind the model given 0.9 or more and wrong (0 is the promise), of
  them those in answers the model gave (not fallbacks to the rules), and the same for the rules
  alone (whose calibration promises 99% right at >= 0.9, not 100%);
- cases worse: cases with fewer fields right behind the model than by the rules alone;
- providers: answers the model gave (``openai``) and fallbacks to the rules (``rules``: the model
  failed, timed out or gave nothing usable).

A slow local model needs a longer per-call timeout than the service's default (30 s): set
OPENAI_TIMEOUT_SECONDS and OPENAI_REQUEST_BUDGET_SECONDS. It is kept out of the test suite and CI:
it needs a model server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANALYZE = "/api/v1/ocr/analyze"
CONFIDENT = 0.9


def cases_for(args: argparse.Namespace) -> list[dict]:
    from ocr.casegen import DOC_TYPES, SAMPLE_SET, generate_cases
    from ocr.evaluation import load_cases

    if args.cases:
        return load_cases(args.cases)
    picked: list[dict] = []
    sample = load_cases(SAMPLE_SET)
    for document_type in DOC_TYPES:
        of_type = [case for case in sample if case["documentType"] == document_type]
        picked += of_type[: args.sample_per_type]
    real = generate_cases(args.real_per_type * len(DOC_TYPES), seed=args.seed, real=True)
    # The generator numbers cases the same way whatever the seed and layout.
    return picked + [{**case, "id": f"real{args.seed}-{case['id']}"} for case in real]


def judged(case: dict, body: dict, same) -> dict[str, Any]:
    """Fields right, and the keys of values given with confidence >= 0.9 that are wrong."""
    right = [key for key, value in case["expected"].items() if same(body["fields"][key], value)]
    wrong_confident = [
        key
        for key, value in case["expected"].items()
        if (body["fieldConfidence"].get(key) or 0) >= CONFIDENT
        and not same(body["fields"][key], value)
    ]
    return {"right": len(right), "wrongConfident": wrong_confident}


async def compare(cases: list[dict]) -> list[dict[str, Any]]:
    from asgiref.sync import sync_to_async
    from model_accuracy import Api, same

    from ocr.models import ApiKey
    from tests.ocr.answers import rules_answer

    key, secret = await sync_to_async(ApiKey.issue)(name="small model bench", rate_limit=0)
    api = Api(key_id=key.key_id, secret=secret, in_flight=1)
    rows = []
    for case in cases:
        rules = await sync_to_async(rules_answer)(case["documentType"], case["rawTexts"])
        started = time.perf_counter()
        status, body = await api.post(
            ANALYZE,
            {
                "documentType": case["documentType"],
                "rawTexts": case["rawTexts"],
                "options": {"useCache": False},
            },
        )
        seconds = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"{case['id']}: the API answered {status}: {body}")
        row = {
            "id": case["id"],
            "documentType": case["documentType"],
            "fields": len(case["expected"]),
            "rules": judged(case, rules, same),
            "model": judged(case, body, same),
            "provider": body["provider"],
            "seconds": round(seconds, 1),
            "warnings": body["warnings"],
            "answer": {"fields": body["fields"], "fieldConfidence": body["fieldConfidence"]},
            "expected": case["expected"],
        }
        rows.append(row)
        print_row(row)
    return rows


def print_row(row: dict[str, Any]) -> None:
    rules, model = row["rules"], row["model"]
    wrong = ", ".join(
        f"{key}={row['answer']['fields'][key]!r} ({row['answer']['fieldConfidence'][key]}; "
        f"expected {row['expected'][key]!r})"
        for key in model["wrongConfident"]
    )
    fields = row["fields"]
    print(
        f"{row['id']:<30} {row['documentType']:<16} rules {rules['right']:2d}/{fields:<2d} "
        f"model {model['right']:2d}/{fields:<2d} {row['provider']:<6} {row['seconds']:6.1f} s"
        + (f"  wrong at >= 0.9: {wrong}" if wrong else ""),
        flush=True,
    )


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    rules_right = sum(row["rules"]["right"] for row in rows)
    model_right = sum(row["model"]["right"] for row in rows)
    fields = sum(row["fields"] for row in rows)
    return {
        "cases": len(rows),
        "fields": fields,
        "rulesAccuracy": round(rules_right / fields, 4),
        "modelAccuracy": round(model_right / fields, 4),
        "accuracyRatio": round(model_right / rules_right, 4) if rules_right else None,
        "wrongAtConfident": sum(len(row["model"]["wrongConfident"]) for row in rows),
        "wrongAtConfidentByModel": sum(
            len(row["model"]["wrongConfident"]) for row in rows if row["provider"] != "rules"
        ),
        "rulesWrongAtConfident": sum(len(row["rules"]["wrongConfident"]) for row in rows),
        "casesWorse": [row["id"] for row in rows if row["model"]["right"] < row["rules"]["right"]],
        "casesBetter": [row["id"] for row in rows if row["model"]["right"] > row["rules"]["right"]],
        "providers": dict(Counter(row["provider"] for row in rows).most_common()),
        "meanSeconds": round(sum(row["seconds"] for row in rows) / len(rows), 1),
    }


def setup_django(database: Path) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")
    # A scratch database and no Redis: the run leaves the project's own data alone.
    os.environ["SQLITE_PATH"] = str(database)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    # A throwaway key for the scratch database's API key; the test client speaks plain HTTP.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample-per-type", type=int, default=1)
    parser.add_argument("--real-per-type", type=int, default=1)
    parser.add_argument("--seed", type=int, default=99, help="seed of the real-layout cases")
    parser.add_argument("--cases", type=Path, help="JSON Lines cases instead")
    parser.add_argument("--json", type=Path, help="also write the per-case report here")
    args = parser.parse_args()
    if not os.environ.get("OPENAI_BASE_URL"):
        raise SystemExit("Set OPENAI_BASE_URL (and OPENAI_API_KEY, OPENAI_MODEL) to the model.")
    with tempfile.TemporaryDirectory() as folder:
        setup_django(Path(folder) / "bench.sqlite3")
        from django.conf import settings

        print(f"model {settings.OPENAI_MODEL} at {settings.OPENAI_BASE_URL}")
        rows = asyncio.run(compare(cases_for(args)))
    summary = totals(rows)
    print()
    for key, value in summary.items():
        print(f"  {key:<22} {value}")
    if args.json:
        report = {"totals": summary, "cases": rows}
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
