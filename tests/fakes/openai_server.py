"""A real, local OpenAI-compatible HTTP server for tests and benchmarks.

It speaks Chat Completions (``POST /v1/chat/completions``, non-streaming) over HTTP on 127.0.0.1
with an ephemeral port, served by uvicorn from a background thread (an asyncio server: hundreds
of requests may wait on a latency at once). The service under test talks to it through the real
``openai`` SDK, exactly as it talks to a hosted model.

How it answers:

- A queue of scripted behaviours (``script(ok(), error(500), ...)``) is consumed one per request:
  ok/answer JSON, fenced JSON, JSON in prose, a cut-off answer, malformed JSON, an HTTP error, 429
  with Retry-After, a hang, a sleep.
- With the queue empty it answers in its mode: ``echo`` gives the right answer of each document
  in the prompt, computed from the expected values of the cases registered with ``add_cases``;
  ``imperfect`` gives that answer with a seeded, deterministic fault mix (``FaultMix``): fenced or
  chatty JSON, values not normalised, a wrong digit in a checked number, an invented field, and
  cut-off answers, 500s and 429s on first tries; ``obey`` gives the right answer overridden by
  every field assignment in the document's lines (``idNumber=...``, ``"name": "..."``), as a model
  that obeys a prompt injection does; ``weak`` gives the answer of a small model that gets things
  wrong the way such models do (``weak_answer``): the document's title or a printed label as a
  value, a number cut short, a bank's name translated.
- Documents are found in the prompt by their OCR lines (each under a ``--- document N of M ---``
  marker in a merged call); a merged call is answered with ``{"items": [...]}``.
- Where the service sent numbers as placeholders (``[[ID_1]]``, see ``ocr.minimise``), a line
  with placeholders matches a case's line that has any text in their places, and the answer
  gives the placeholder wherever the right value is the text it stands for, as a model that
  copies what it sees would.

It counts calls and tokens (``calls``, ``prompt_tokens``, ``completion_tokens``), keeps each
request (``requests``) and counts the faults it injected (``faults``).

Run it on its own: ``python -m tests.fakes.openai_server --port 8100 --latency 1 --mode echo
--cases datasets/sample.jsonl`` (then OPENAI_BASE_URL=http://127.0.0.1:8100/v1).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import hashlib
import json
import math
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from prompts.document_types import shipped_document_types

BATCH_MARKER = re.compile(r"^--- document (\d+) of (\d+) ---$", re.M)
PLACEHOLDER = re.compile(r"(\[\[[A-Z]+_\d+\]\])")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def count_tokens(text: str) -> int:
    """A stand-in tokenizer: one token per CJK character, one per four other characters."""
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


# --- scripted behaviours -------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """What the server does with one request."""

    kind: str
    status: int = 200
    fields: dict[str, Any] | None = None
    content: str | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    then: Behaviour | None = None


def ok() -> Behaviour:
    """The right answer as plain JSON."""
    return Behaviour("ok")


def answer(fields: dict[str, Any]) -> Behaviour:
    """This object (merged calls: this list of objects under "items") as plain JSON."""
    return Behaviour("answer", fields=fields)


def raw(content: str, *, finish_reason: str = "stop") -> Behaviour:
    """This exact message content."""
    return Behaviour("raw", content=content, retry_after=finish_reason)


def fenced() -> Behaviour:
    """The right answer inside a ```json code fence."""
    return Behaviour("fenced")


def prose() -> Behaviour:
    """The right answer with a sentence before and after it."""
    return Behaviour("prose")


def cutoff() -> Behaviour:
    """The right answer cut off half way, finish_reason "length"."""
    return Behaviour("cutoff")


def malformed() -> Behaviour:
    """Text that looks like JSON and is not, finish_reason "stop"."""
    return Behaviour("malformed")


def error(status: int = 500, *, retry_after: str | None = None) -> Behaviour:
    """An HTTP error in the OpenAI error envelope."""
    return Behaviour("error", status=status, retry_after=retry_after)


def rate_limited(retry_after: str = "1") -> Behaviour:
    """429 with a Retry-After header."""
    return Behaviour("error", status=429, retry_after=retry_after)


def not_json(content: str = "<html><body>Bad gateway</body></html>") -> Behaviour:
    """A 200 whose HTTP body is this text (text/html), not a chat completion."""
    return Behaviour("not_json", content=content)


def hang(seconds: float = 60.0) -> Behaviour:
    """No answer until the client gives up (or ``seconds`` pass)."""
    return Behaviour("hang", seconds=seconds)


def sleep(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Wait ``seconds``, then behave as ``then`` (the right answer by default)."""
    return Behaviour("sleep", seconds=seconds, then=then or ok())


# --- the imperfect model -------------------------------------------------------------------


@dataclass(frozen=True)
class FaultMix:
    """Probabilities of the imperfect model's faults. Content faults are decided per document
    (the same on a retry, as a model at temperature 0 would); wrapping per answer; transient
    faults on the first try of a prompt only."""

    fenced: float = 0.25
    prose: float = 0.15
    unnormalised: float = 0.5
    wrong_digit: float = 1 / 8
    invented: float = 1 / 10
    cutoff_first: float = 0.06
    error_first: float = 0.06
    rate_limited_first: float = 0.06
    retry_after: str = "1"


_COUNTRY_PRINTS = {
    "CHN": "中国",
    "JPN": "JAPAN",
    "USA": "UNITED STATES",
    "GBR": "UNITED KINGDOM",
    "D": "GERMANY",
    "FRA": "FRANCE",
    "KOR": "KOREA",
    "CAN": "CANADA",
}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_INVENTED_CHARS = "巩俞莘璩蔺隗靳乜闻訾邰仉蒯鄂燮鹿鞠樊"


def unnormalised(value: str, *, format: str, rng: random.Random) -> str:
    """A printed form of a canonical value that the service must normalise back."""
    if format in ("date", "validUntil") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        y, m, d = value.split("-")
        return rng.choice(
            [
                f"{int(y)}年{int(m)}月{int(d)}日",
                f"{y}/{m}/{d}",
                f"{y}.{m}.{d}",
                f"{d} {_MONTHS[int(m) - 1]} {y}",
            ]
        )
    if format == "validUntil" and value == "long-term":
        return "长期"
    if format == "yearMonth" and re.fullmatch(r"\d{4}-\d{2}", value):
        y, m = value.split("-")
        return rng.choice([f"{m}/{y[2:]}", f"{y}/{m}", f"{int(y)}年{int(m)}月"])
    if format == "gender":
        return rng.choice({"male": ["男", "M", "MALE"], "female": ["女", "F", "FEMALE"]}[value])
    if format == "debit or credit":
        return rng.choice({"debit": ["借记卡", "DEBIT"], "credit": ["信用卡", "CREDIT"]}[value])
    if format == "country":
        return _COUNTRY_PRINTS.get(value, value)
    if format == "digits":
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    if format == "code":
        return rng.choice(
            [value.lower(), " ".join(value[i : i + 4] for i in range(0, len(value), 4))]
        )
    if format == "text":
        # A space between two Chinese characters, which the canonical form drops.
        cuts = [
            i for i in range(1, len(value)) if _CJK.match(value[i - 1]) and _CJK.match(value[i])
        ]
        if cuts:
            cut = rng.choice(cuts)
            return value[:cut] + " " + value[cut:]
    return value


def wrong_digit(value: str, *, rng: random.Random) -> str | None:
    """The value with one digit changed, or None where it has no digit."""
    positions = [i for i, c in enumerate(value) if c.isdigit()]
    if not positions:
        return None
    i = rng.choice(positions)
    digit = rng.choice([d for d in "0123456789" if d != value[i]])
    return value[:i] + digit + value[i + 1 :]


def invented(*, format: str, rng: random.Random) -> str:
    """A plausible value of ``format`` that no document holds."""
    if format in ("date", "validUntil"):
        return f"{rng.randint(1950, 2035)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if format == "yearMonth":
        return f"{rng.randint(2026, 2035)}-{rng.randint(1, 12):02d}"
    if format == "gender":
        return rng.choice(["male", "female"])
    if format == "country":
        return rng.choice(["USA", "GBR", "FRA"])
    if format == "debit or credit":
        return rng.choice(["debit", "credit"])
    if format == "digits":
        return "".join(rng.choice("0123456789") for _ in range(16))
    if format == "code":
        return "".join(rng.choice("ABCDEFGHJKMNPRTUVWXY0123456789") for _ in range(10))
    return "".join(rng.choice(_INVENTED_CHARS) for _ in range(3))


# --- the obeying model and the weak model ---------------------------------------------------

_ASSIGNMENT = re.compile(r"[\"']?([A-Za-z]+)[\"']?\s*[=:：]\s*[\"']?([^\s\"',;，；}]+)")
_BANK_TRANSLATIONS = {
    "中国银行": "BANK OF CHINA",
    "中国工商银行": "ICBC",
    "中国建设银行": "China Construction Bank",
    "中国农业银行": "Agricultural Bank of China",
    "招商银行": "China Merchants Bank",
}


def obeyed(values: dict[str, Any], *, text: str, keys: Iterable[str]) -> dict[str, Any]:
    """``values`` with every assignment the text makes to one of ``keys`` carried out."""
    wanted = set(keys)
    out = dict(values)
    for key, value in _ASSIGNMENT.findall(text):
        if key in wanted:
            out[key] = value
    return out


# The words of a document's printed title (the heading a small model copies into a field).
_TITLE_RE = re.compile(r"居民身份证|驾驶证|行驶证|营业执照|护照|PASSPORT|DRIVING LICEN[CS]E", re.I)


def weak_answer(
    values: dict[str, Any],
    *,
    labels: dict[str, str],
    formats: dict[str, tuple[str, str]],
    lines: Iterable[str] = (),
) -> dict[str, Any]:
    """What a small model answers where ``values`` are right: the document's title line for the
    first empty text field (as SmolLM2-135M gave a driving licence's English title as the
    name), the label for the ethnicity and every other empty field, a resident id cut to 16
    characters, the name with its label, a bank's name in English."""
    out = dict(values)
    title = next((line.strip() for line in lines if _TITLE_RE.search(line)), None)
    for key, value in values.items():
        field_format, validator = formats.get(key, ("", ""))
        if value is None and title is not None and field_format == "text":
            out[key], title = title, None
        elif value is None or key == "ethnicity":
            out[key] = labels.get(key)
        elif validator == "cn_resident_id":
            out[key] = value[:16]
        elif key in ("name", "owner"):
            out[key] = f"{labels.get(key, '')}{value}"
        elif key == "bankName":
            out[key] = _BANK_TRANSLATIONS.get(value, "China")
    return out


# --- the server ----------------------------------------------------------------------------


@dataclass
class _Case:
    id: str
    document_type: str
    text: str
    expected: dict[str, Any]

    @functools.cached_property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.split("\n")]

    @functools.cached_property
    def positions(self) -> dict[str, list[int]]:
        """Where each of the case's lines is in it."""
        positions: dict[str, list[int]] = collections.defaultdict(list)
        for position, line in enumerate(self.lines):
            positions[line].append(position)
        return dict(positions)


@dataclass
class Request:
    """One request as the server saw it."""

    model: str
    messages: list[dict[str, Any]]
    response_format: Any
    max_tokens: int | None
    documents: int
    prompt_tokens: int


@dataclass
class _Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    # Sent as is (text/html) instead of the JSON of ``body``.
    raw_body: bytes | None = None


class FakeOpenAI:
    """The server. ``start()`` it (or use it as a context manager), point OPENAI_BASE_URL at
    ``base_url``, ``reset()`` between tests."""

    def __init__(
        self,
        *,
        mode: str = "echo",
        latency: float = 0.0,
        seed: int = 0,
        faults: FaultMix | None = None,
        json_mode_supported: bool = True,
        known_models: Iterable[str] | None = None,
        port: int = 0,
        keep_requests: int | None = None,
    ) -> None:
        self.mode = mode
        # None keeps every request; a long run keeps the last few, or its memory (and the
        # garbage collector's pauses, which delay answers) would grow without end.
        self.keep_requests = keep_requests
        self.latency = latency
        self.seed = seed
        self.fault_mix = faults or FaultMix()
        self.json_mode_supported = json_mode_supported
        self.known_models = set(known_models) if known_models is not None else None
        self.port = port
        self._lock = threading.Lock()
        self._script: collections.deque[Behaviour] = collections.deque()
        self._cases_by_text: dict[str, _Case] = {}
        self._cases_by_line: dict[str, list[_Case]] = collections.defaultdict(list)
        self._cases_by_any_line: dict[str, list[_Case]] = collections.defaultdict(list)
        self._tries: collections.Counter[str] = collections.Counter()
        self._empty_share = 1.0
        self._field_formats = self._load_formats()
        self._labels = {
            key: {spec.key: spec.label.split("/")[0].strip() for spec in specs}
            for key, specs in shipped_document_types().items()
        }
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- control (called from the test's thread) --

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        """Forget the script, counters and requests (not the registered cases or the mode)."""
        with self._lock:
            self._script.clear()
            self._tries.clear()
            self.calls = 0
            self.prompt_tokens = 0
            self.completion_tokens = 0
            self.in_flight = 0
            self.max_in_flight = 0
            self.requests: collections.deque[Request] = collections.deque(maxlen=self.keep_requests)
            self.faults: collections.Counter[str] = collections.Counter()
            self._faulted: set[tuple[str, str]] = set()

    def configure(
        self,
        *,
        mode: str = "echo",
        latency: float = 0.0,
        seed: int = 0,
        faults: FaultMix | None = None,
        json_mode_supported: bool = True,
        known_models: Iterable[str] | None = None,
    ) -> None:
        """Set the mode and quirks, forget the registered cases, and reset()."""
        self.mode = mode
        self.latency = latency
        self.seed = seed
        self.fault_mix = faults or FaultMix()
        self.json_mode_supported = json_mode_supported
        self.known_models = set(known_models) if known_models is not None else None
        with self._lock:
            self._cases_by_text.clear()
            self._cases_by_line.clear()
            self._cases_by_any_line.clear()
            self._empty_share = 1.0
        self.reset()

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours, one per coming request, before the mode's answers resume."""
        with self._lock:
            self._script.extend(behaviours)

    def add_cases(self, cases: Iterable[dict[str, Any]]) -> None:
        """Register cases (the test-set format) whose answers the server knows."""
        with self._lock:
            for raw_case in cases:
                case = _Case(
                    id=str(raw_case.get("id") or uuid.uuid4()),
                    document_type=raw_case["documentType"],
                    text="\n".join(raw_case["rawTexts"]),
                    expected=dict(raw_case["expected"]),
                )
                self._cases_by_text[case.text.strip()] = case
                longest = max((line.strip() for line in raw_case["rawTexts"]), key=len)
                self._cases_by_line[longest].append(case)
                for line in dict.fromkeys(line.strip() for line in raw_case["rawTexts"]):
                    self._cases_by_any_line[line].append(case)
            # Only a document with an empty field can get an invented one: scale the chance so
            # that about FaultMix.invented of all answers carry one.
            known = list(self._cases_by_text.values())
            with_empty = sum(any(v is None for v in c.expected.values()) for c in known)
            self._empty_share = with_empty / len(known) if known else 1.0

    def start(self) -> FakeOpenAI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Answers are small writes; without this Nagle's algorithm can hold one back ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(4096)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            interface="asgi3",
            log_level="warning",
            access_log=False,
            timeout_keep_alive=60,
            timeout_graceful_shutdown=1,
            backlog=4096,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])),
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("The fake OpenAI server did not start.")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the ASGI app (runs on the server's thread) --

    async def app(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"].rstrip("/")
        if scope["method"] == "POST" and path.endswith("/chat/completions"):
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                reply = await self._chat(body, receive)
            finally:
                with self._lock:
                    self.in_flight -= 1
        elif scope["method"] == "GET" and path.endswith("/models"):
            reply = _Reply(body={"object": "list", "data": []})
        else:
            reply = _error_reply(404, "Not found.", "not_found")
        if reply is None:
            return
        payload = json.dumps(reply.body, ensure_ascii=False).encode()
        content_type = b"application/json"
        if reply.raw_body is not None:
            payload, content_type = reply.raw_body, b"text/html"
        headers = [(b"content-type", content_type), *reply.headers]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _chat(self, body: bytes, receive) -> _Reply | None:
        answer_at = asyncio.get_running_loop().time() + self.latency
        try:
            request = json.loads(body)
            messages = request["messages"]
        except (ValueError, KeyError, TypeError):
            return _error_reply(400, "The body is not a chat completion request.", None)
        prompt = "\n".join(str(m.get("content", "")) for m in messages)
        prompt_tokens = count_tokens(prompt)
        user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
        sections = self._sections(user)
        with self._lock:
            self.calls += 1
            self.prompt_tokens += prompt_tokens
            self.requests.append(
                Request(
                    model=request.get("model", ""),
                    messages=messages,
                    response_format=request.get("response_format"),
                    max_tokens=request.get("max_tokens") or request.get("max_completion_tokens"),
                    documents=len(sections) if sections else 1,
                    prompt_tokens=prompt_tokens,
                )
            )
            behaviour = self._script.popleft() if self._script else None
            fingerprint = hashlib.sha256(prompt.encode()).hexdigest()
            self._tries[fingerprint] += 1
            first_try = self._tries[fingerprint] == 1
        if behaviour is None:
            behaviour = self._mode_behaviour(fingerprint, first_try)
        if behaviour.kind in ("sleep", "hang"):
            # These wait on their own, after the model's latency.
            await _sleep_until(answer_at)
        reply = self._refusal(request)
        if reply is None:
            keys = _field_keys(messages)
            batch = sections is not None
            reply = await self._behave(
                behaviour,
                receive=receive,
                documents=sections if batch else [user],
                keys=keys,
                batch=batch,
                model=request.get("model", ""),
                prompt_tokens=prompt_tokens,
                fingerprint=fingerprint,
            )
        # The answer is made before the latency is over, so that the fake's own work does not
        # count as the service's overhead in the benchmarks: it answers `latency` after the
        # request, as a model that took that long would.
        await _sleep_until(answer_at)
        return reply

    def _refusal(self, request: dict[str, Any]) -> _Reply | None:
        """The error of a request this model does not take, or None."""
        if request.get("response_format") and not self.json_mode_supported:
            return _error_reply(
                400, "Unrecognized request argument supplied: response_format", None
            )
        if self.known_models is not None and request.get("model") not in self.known_models:
            return _error_reply(
                404, f"The model `{request.get('model')}` does not exist.", "model_not_found"
            )
        return None

    async def _behave(self, behaviour: Behaviour, *, receive, **context: Any) -> _Reply | None:
        if behaviour.kind == "sleep":
            await asyncio.sleep(behaviour.seconds)
            return await self._behave(behaviour.then or ok(), receive=receive, **context)
        if behaviour.kind == "hang":
            try:
                await asyncio.wait_for(_disconnected(receive), behaviour.seconds)
            except TimeoutError:
                return _error_reply(504, "The fake model hung.", None)
            return None
        if behaviour.kind == "error":
            headers = []
            if behaviour.retry_after is not None:
                headers.append((b"retry-after", behaviour.retry_after.encode()))
            code = "rate_limit_exceeded" if behaviour.status == 429 else None
            reply = _error_reply(behaviour.status, f"Fake error {behaviour.status}.", code)
            reply.headers = headers
            return reply
        if behaviour.kind == "not_json":
            return _Reply(raw_body=(behaviour.content or "").encode())
        finish_reason = "stop"
        if behaviour.kind == "raw":
            content = behaviour.content or ""
            finish_reason = behaviour.retry_after or "stop"
        elif behaviour.kind == "malformed":
            content = "{name: 张三, 'gender': male,, }"
        else:
            if behaviour.kind == "answer":
                payload: Any = behaviour.fields
                if context["batch"] and isinstance(payload, list):
                    payload = {"items": payload}
            else:
                payload = self._answers(context["documents"], context["keys"], context["batch"])
            content = json.dumps(payload, ensure_ascii=False)
            if behaviour.kind == "fenced":
                content = f"```json\n{content}\n```"
            elif behaviour.kind == "prose":
                content = (
                    f"Sure! Here are the fields I found:\n{content}\nLet me know if you need more."
                )
            elif behaviour.kind == "cutoff":
                content = content[: max(1, len(content) * 3 // 5)]
                finish_reason = "length"
        completion_tokens = count_tokens(content)
        with self._lock:
            self.completion_tokens += completion_tokens
        return _Reply(
            body={
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": context["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": context["prompt_tokens"],
                    "completion_tokens": completion_tokens,
                    "total_tokens": context["prompt_tokens"] + completion_tokens,
                },
            }
        )

    # -- answers --

    def _mode_behaviour(self, fingerprint: str, first_try: bool) -> Behaviour:
        if self.mode != "imperfect":
            return ok()
        mix = self.fault_mix
        rng = random.Random(f"{self.seed}:call:{fingerprint}")
        if first_try:
            roll = rng.random()
            for name, chance, behaviour in (
                ("cutoff", mix.cutoff_first, cutoff()),
                ("error_500", mix.error_first, error(500)),
                ("rate_limited", mix.rate_limited_first, rate_limited(mix.retry_after)),
            ):
                if roll < chance:
                    self._count(name)
                    return behaviour
                roll -= chance
        roll = rng.random()
        if roll < mix.fenced:
            self._count("fenced")
            return fenced()
        if roll < mix.fenced + mix.prose:
            self._count("prose")
            return prose()
        return ok()

    def _count(self, fault: str, *, case_id: str | None = None) -> None:
        """Count an injected fault; a document's content fault once, however often it is asked."""
        with self._lock:
            if case_id is not None:
                if (case_id, fault) in self._faulted:
                    return
                self._faulted.add((case_id, fault))
            self.faults[fault] += 1

    def _sections(self, user: str) -> list[str] | None:
        """The documents of a merged prompt, or None for a prompt of one document."""
        markers = list(BATCH_MARKER.finditer(user))
        if not markers:
            return None
        sections = []
        for marker, following in zip(markers, [*markers[1:], None], strict=True):
            end = following.start() if following else len(user)
            sections.append(user[marker.end() : end].strip("\n"))
        return sections

    def _find_case(self, text: str) -> _Case | None:
        with self._lock:
            case = self._cases_by_text.get(text.strip())
            if case is not None:
                return case
            found: list[_Case] = []
            for line in text.splitlines():
                for candidate in self._cases_by_line.get(line.strip(), []):
                    if candidate.text in text:
                        found.append(candidate)
        return max(found, key=lambda c: len(c.text)) if found else None

    def _answers(self, documents: list[str], keys: list[str] | None, batch: bool) -> Any:
        answers = [self._answer(document, keys) for document in documents]
        return {"items": answers} if batch else answers[0]

    def _find_redacted_case(self, text: str) -> tuple[_Case | None, dict[str, str]]:
        """The case whose lines the prompt holds with placeholders in places, and the text
        each placeholder stands for there."""
        lines = [line.strip() for line in text.splitlines()]
        patterns = [_line_pattern(line) for line in lines]
        with self._lock:
            anchored = [
                (index, case)
                for index, (line, pattern) in enumerate(zip(lines, patterns, strict=True))
                if pattern is None
                for case in self._cases_by_any_line.get(line, [])
            ]
        # A case can sit only where each of the prompt's lines without a placeholder is the
        # case's line at that place: at a start such a line pins, or where the case's span
        # holds no such line. Trying only those starts keeps the fake's own work small, as
        # the benchmarks need, and finds what trying every start would.
        starts: dict[int, tuple[_Case, set[int]]] = {}
        for index, case in anchored:
            pinned = starts.setdefault(id(case), (case, set()))[1]
            pinned.update(index - position for position in case.positions[lines[index]])
        redacted_runs = _redacted_runs(patterns)
        best: tuple[_Case, dict[str, str]] | None = None
        for case, pinned in starts.values():
            span = len(case.lines)
            free = (
                start
                for run_start, run_end in redacted_runs
                for start in range(run_start, run_end - span + 1)
            )
            for start in sorted({*pinned, *free}):
                if start < 0 or start + span > len(lines):
                    continue
                stand_ins = _match_lines(
                    lines[start : start + span], patterns[start : start + span], case.lines
                )
                if stand_ins is not None and (best is None or len(case.text) > len(best[0].text)):
                    best = (case, stand_ins)
                    break
        return best if best is not None else (None, {})

    def _answer(self, document: str, keys: list[str] | None) -> dict[str, Any]:
        case = self._find_case(document)
        stand_ins: dict[str, str] = {}
        if case is None and PLACEHOLDER.search(document):
            case, stand_ins = self._find_redacted_case(document)
        if case is None:
            values = dict.fromkeys(keys or [])
            return obeyed(values, text=document, keys=values) if self.mode == "obey" else values
        values = {key: case.expected.get(key) for key in (keys or list(case.expected))}
        if self.mode == "obey":
            return obeyed(values, text=document, keys=values)
        if self.mode == "weak":
            return weak_answer(
                values,
                labels=self._labels.get(case.document_type, {}),
                formats=self._field_formats.get(case.document_type, {}),
                lines=case.text.split("\n"),
            )
        if self.mode != "imperfect":
            return _with_placeholders(values, stand_ins)
        return _with_placeholders(self._faulty(case, values), stand_ins)

    def _faulty(self, case: _Case, values: dict[str, Any]) -> dict[str, Any]:
        """`values` with the imperfect model's content faults for `case`."""
        formats = self._field_formats.get(case.document_type, {})
        mix = self.fault_mix
        rng = random.Random(f"{self.seed}:case:{case.id}")
        if rng.random() < mix.wrong_digit:
            checked = [k for k, v in values.items() if v and formats.get(k, ("", ""))[1]]
            if checked:
                key = rng.choice(checked)
                changed = wrong_digit(values[key], rng=rng)
                if changed:
                    values[key] = changed
                    self._count("wrong_digit", case_id=case.id)
        if rng.random() < min(1.0, mix.invented / max(self._empty_share, 1e-9)):
            empty = [k for k, v in values.items() if v is None and k in formats]
            if empty:
                key = rng.choice(empty)
                values[key] = invented(format=formats[key][0], rng=rng)
                self._count("invented", case_id=case.id)
        if rng.random() < mix.unnormalised:
            self._count("unnormalised", case_id=case.id)
            values = {
                k: unnormalised(v, format=formats.get(k, ("text", ""))[0], rng=rng)
                if isinstance(v, str)
                else v
                for k, v in values.items()
            }
        return values

    @staticmethod
    def _load_formats() -> dict[str, dict[str, tuple[str, str]]]:
        return {
            key: {spec.key: (spec.format, spec.validator) for spec in specs}
            for key, specs in shipped_document_types().items()
        }


def _redacted_runs(patterns: list[re.Pattern[str] | None]) -> list[tuple[int, int]]:
    """The start and end of each run of lines with a placeholder (a pattern)."""
    runs: list[tuple[int, int]] = []
    start = None
    for index, pattern in enumerate([*patterns, None]):
        if pattern is not None and start is None:
            start = index
        elif pattern is None and start is not None:
            runs.append((start, index))
            start = None
    return runs


def _compact(text: str) -> str:
    return re.sub(r"[\s\-]+", "", text).upper()


def _line_pattern(line: str) -> re.Pattern[str] | None:
    """A pattern of the case lines `line` may stand for (a group per placeholder in it), or
    None where it has no placeholder."""
    pieces = PLACEHOLDER.split(line)
    if len(pieces) == 1:
        return None
    return re.compile(
        "".join("(.+?)" if PLACEHOLDER.fullmatch(p) else re.escape(p) for p in pieces if p)
    )


def _match_lines(
    lines: list[str], patterns: list[re.Pattern[str] | None], case_lines: list[str]
) -> dict[str, str] | None:
    """What each placeholder of `lines` stands for where they are `case_lines` redacted, else
    None."""
    stand_ins: dict[str, str] = {}
    for line, pattern, case_line in zip(lines, patterns, case_lines, strict=True):
        if pattern is None:
            if line != case_line:
                return None
            continue
        match = pattern.fullmatch(case_line)
        if match is None:
            return None
        names = [p for p in PLACEHOLDER.split(line) if PLACEHOLDER.fullmatch(p)]
        for name, text in zip(names, match.groups(), strict=True):
            if _compact(stand_ins.setdefault(name, text)) != _compact(text):
                return None
    return stand_ins


def _with_placeholders(values: dict[str, Any], stand_ins: dict[str, str]) -> dict[str, Any]:
    """`values` with each one the text of a placeholder stands for given as the placeholder."""
    by_number = {_compact(text): name for name, text in stand_ins.items()}
    return {
        key: by_number.get(_compact(value), value) if isinstance(value, str) else value
        for key, value in values.items()
    }


def _field_keys(messages: list[dict[str, Any]]) -> list[str] | None:
    """The field keys the prompt asks for: the first JSON list of strings in it."""
    for message in messages:
        for match in re.finditer(r"\[\s*\"[^\]]*\]", str(message.get("content", ""))):
            try:
                keys = json.loads(match.group())
            except ValueError:
                continue
            if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
                return keys
    return None


async def _sleep_until(deadline: float) -> None:
    delay = deadline - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


def _error_reply(status: int, message: str, code: str | None) -> _Reply:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return _Reply(
        status=status,
        body={"error": {"message": message, "type": kind, "param": None, "code": code}},
    )


async def _disconnected(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--mode", choices=["echo", "imperfect", "obey", "weak"], default="echo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", action="append", default=[], help="JSON Lines test sets")
    parser.add_argument(
        "--keep-requests", type=int, default=1000, help="how many of the last requests to keep"
    )
    args = parser.parse_args()
    server = FakeOpenAI(
        mode=args.mode,
        latency=args.latency,
        seed=args.seed,
        port=args.port,
        keep_requests=args.keep_requests,
    )
    for path in args.cases:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        server.add_cases(json.loads(line) for line in lines if line.strip())
    with server:
        print(f"Fake OpenAI server on {server.base_url} ({args.mode}); Ctrl-C stops it.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
