"""Accuracy of the model path against an imperfect OpenAI-compatible model, on held-out cases.

    .venv/bin/python bench/model_accuracy.py [--cases 600] [--seed 99] [--sample] [--json REPORT]

It starts the fake model server of tests/fakes/openai_server.py in "imperfect" mode (fenced or
chatty JSON, values not normalised, a wrong digit in a checked number in about 1 answer in 8, an
invented field in about 1 in 10, cut-off answers, 500s and 429s with Retry-After on first tries;
deterministic by seed), points the service at it, and sends held-out cases (made by
ocr/casegen with a seed the tests do not use; ``--sample`` adds the shipped sample set) through
the signed API, many in flight at once, on a scratch SQLite database. It prints:

- field accuracy (the contract's comparison: NFKC, no white space, upper case), for single
  analyze calls and for batch-analyze calls of 10;
- invented values (a value where the document holds none), as a share of all fields and of the
  fields that are empty;
- how often a value with confidence >= 0.9 is right;
- the share of 200 answers;
- model calls per batch of 10 documents of one type, and the prompt tokens merging saved;
- that a repeated request comes from the cache with no model call;
- with the model unreachable: the share of 200 answers from the built-in extractor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANALYZE = "/api/v1/ocr/analyze"
BATCH = "/api/v1/ocr/batch-analyze"


def setup_django(database: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")
    # A scratch database and no Redis: the run leaves the project's own data alone.
    os.environ["SQLITE_PATH"] = str(database)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def same(a: str | None, b: str | None) -> bool:
    """The contract's comparison of a value with the expected one."""

    def form(value: str | None) -> str | None:
        if value is None:
            return None
        return "".join(unicodedata.normalize("NFKC", value).split()).upper()

    return form(a) == form(b)


def score(pairs: list[tuple[dict, dict | None]]) -> dict[str, Any]:
    """Accuracy figures over (case, answer body or None for a non-200)."""
    fields = right = invented = empty = confident = confident_right = 0
    for case, body in pairs:
        for key, expected in case["expected"].items():
            fields += 1
            empty += expected is None
            if body is None:
                continue
            value = body["fields"].get(key)
            right += same(value, expected)
            invented += expected is None and value is not None
            if (body["fieldConfidence"].get(key) or 0) >= 0.9:
                confident += 1
                confident_right += same(value, expected)
    answered = sum(body is not None for _, body in pairs)
    return {
        "documents": len(pairs),
        "fields": fields,
        "fieldAccuracy": round(right / fields, 5) if fields else None,
        "inventedShareOfFields": round(invented / fields, 5) if fields else None,
        "inventedShareOfEmptyFields": round(invented / empty, 5) if empty else None,
        "confidentValues": confident,
        "confidentAccuracy": round(confident_right / confident, 5) if confident else None,
        "share200": round(answered / len(pairs), 5) if pairs else None,
        "providers": dict(
            Counter(body["provider"] for _, body in pairs if body is not None).most_common()
        ),
    }


class Api:
    """Signed requests through Django's async test client: many in flight in one event loop."""

    def __init__(self, *, key_id: str, secret: str, in_flight: int) -> None:
        from django.test import AsyncClient

        self.client = AsyncClient()
        self.key_id = key_id
        self.secret = secret
        self.limit = asyncio.Semaphore(in_flight)

    async def post(self, path: str, data: Any) -> tuple[int, Any]:
        from tests.signing import signature_headers

        body = json.dumps(data, ensure_ascii=False).encode()
        headers = signature_headers(
            key_id=self.key_id, secret=self.secret, method="POST", path=path, body=body
        )
        async with self.limit:
            response = await self.client.post(
                path, data=body, content_type="application/json", headers=headers
            )
        return response.status_code, json.loads(response.content)


def request_of(case: dict, *, use_cache: bool = True) -> dict:
    return {
        "documentType": case["documentType"],
        "rawTexts": case["rawTexts"],
        "options": {"useCache": use_cache},
    }


async def run_singles(api: Api, cases: list[dict], *, use_cache: bool = False) -> list:
    answers = await asyncio.gather(
        *(api.post(ANALYZE, request_of(case, use_cache=use_cache)) for case in cases)
    )
    return [
        (case, body if status == 200 else None)
        for case, (status, body) in zip(cases, answers, strict=True)
    ]


async def run_batches(api: Api, batches: list[list[dict]]) -> list:
    answers = await asyncio.gather(
        *(
            api.post(BATCH, {"items": [request_of(c, use_cache=False) for c in batch]})
            for batch in batches
        )
    )
    pairs = []
    for batch, (status, body) in zip(batches, answers, strict=True):
        results = body.get("results", []) if status == 200 else [None] * len(batch)
        for case, result in zip(batch, results, strict=True):
            pairs.append((case, result if result and "error" not in result else None))
    return pairs


def same_type_batches(cases: list[dict], size: int = 10) -> list[list[dict]]:
    by_type: dict[str, list[dict]] = defaultdict(list)
    for case in cases:
        by_type[case["documentType"]].append(case)
    return [
        group[i : i + size]
        for group in by_type.values()
        for i in range(0, len(group) - size + 1, size)
    ]


def print_report(report: dict[str, Any]) -> None:
    def line(label: str, value: Any) -> None:
        print(f"  {label:<44} {value}")

    for name in ("single", "batch", "unreachable"):
        figures = report[name]
        print(f"\n{report['labels'][name]}")
        for key in (
            "documents",
            "fieldAccuracy",
            "inventedShareOfFields",
            "inventedShareOfEmptyFields",
            "confidentValues",
            "confidentAccuracy",
            "share200",
            "providers",
        ):
            line(key, figures[key])
    print("\nBatches of 10 documents of one type")
    for key, value in report["batches"].items():
        line(key, value)
    print("\nCache")
    for key, value in report["cache"].items():
        line(key, value)
    print("\nFaults the imperfect model injected")
    for phase, faults in report["faults"].items():
        line(phase, faults)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from asgiref.sync import sync_to_async
    from django.conf import settings

    from ocr.casegen import SAMPLE_SET, generate_cases
    from ocr.evaluation import load_cases
    from ocr.models import ApiKey, OcrRequest
    from tests.fakes.openai_server import FakeOpenAI, FaultMix

    cases = generate_cases(args.cases, seed=args.seed)
    if args.sample:
        cases += load_cases(SAMPLE_SET)
    key, secret = await sync_to_async(ApiKey.issue)(name="model accuracy bench", rate_limit=0)
    api = Api(key_id=key.key_id, secret=secret, in_flight=args.in_flight)

    server = FakeOpenAI(
        mode="imperfect", seed=args.seed, faults=FaultMix(retry_after=str(args.retry_after))
    ).start()
    server.add_cases(cases)
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_API_KEY = "sk-bench-not-a-real-key"
    report: dict[str, Any] = {
        "labels": {
            "single": "Single analyze calls (imperfect model)",
            "batch": "Batch analyze, 10 documents of one type a batch (imperfect model)",
            "unreachable": "Model unreachable (single calls)",
        },
        "cases": len(cases),
        "seed": args.seed,
    }
    try:
        started = time.perf_counter()
        report["single"] = score(await run_singles(api, cases))
        report["single"]["seconds"] = round(time.perf_counter() - started, 2)

        report["faults"] = {"single": dict(server.faults)}
        batches = same_type_batches(cases)
        server.reset()
        batch_pairs = await run_batches(api, batches)
        report["batch"] = score(batch_pairs)
        report["faults"]["batch"] = dict(server.faults)
        ids = [body["requestId"] for _, body in batch_pairs if body is not None]
        rows = await sync_to_async(
            lambda: list(
                OcrRequest.objects.filter(request_id__in=ids).values_list(
                    "prompt_tokens", "prompt_tokens_unmerged"
                )
            )
        )()
        merged = sum(row[0] for row in rows)
        unmerged = sum(row[1] for row in rows)
        report["batches"] = {
            "batches": len(batches),
            "modelCallsPerBatch": round(server.calls / len(batches), 3) if batches else None,
            "mostCallsInABatch": _most_calls_per_batch(server, len(batches)),
            "promptTokensMerged": merged,
            "promptTokensIfUnmerged": unmerged,
            "promptTokensSaved": round(1 - merged / unmerged, 3) if unmerged else None,
        }

        sample = cases[: min(30, len(cases))]
        await run_singles(api, sample, use_cache=True)
        calls_before = server.calls
        repeated = await api_all(api, sample)
        report["cache"] = {
            "repeatedRequests": len(sample),
            "answeredFromCache": sum(body.get("cached") is True for body in repeated),
            "modelCallsForRepeats": server.calls - calls_before,
        }
    finally:
        server.stop()

    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    report["unreachable"] = score(await run_singles(api, cases))
    return report


async def api_all(api: Api, cases: list[dict]) -> list[dict]:
    answers = await asyncio.gather(*(api.post(ANALYZE, request_of(case)) for case in cases))
    return [body for _, body in answers]


def _most_calls_per_batch(server, batches: int) -> int | None:
    """The most model calls any one batch made: merged calls hold up to 10 documents, so a batch
    of 10 makes one call, plus one for each retry."""
    if not batches:
        return None
    by_prompt: Counter[str] = Counter()
    for request in server.requests:
        by_prompt[request.messages[-1]["content"]] += 1
    return max(by_prompt.values()) if by_prompt else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=600, help="held-out cases to generate")
    parser.add_argument("--seed", type=int, default=99, help="case and fault seed")
    parser.add_argument("--sample", action="store_true", help="add the shipped sample set")
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--retry-after", type=float, default=1.0, help="the fake's Retry-After")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setup_django(Path(folder) / "bench.sqlite3")
        report = asyncio.run(measure(args))
    print(f"{report['cases']} cases, seed {report['seed']}")
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
