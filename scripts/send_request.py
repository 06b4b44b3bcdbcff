#!/usr/bin/env python3
"""Sign a JSON file with an API key and send it to QuickVault AI-OCR. Standard library only.

    python scripts/send_request.py examples/id-card.json
    python scripts/send_request.py --path /api/v1/document-types --method GET

The key comes from --key-id/--secret, from QV_KEY_ID/QV_SECRET, or from the demo key that
`make run` writes to .demo-api-key.json.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def sign(*, secret: str, method: str, path: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    nonce = secrets.token_urlsafe(24)
    message = "\n".join([timestamp, nonce, method.upper(), path, hashlib.sha256(body).hexdigest()])
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {"X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature}


DEMO_KEY_FILE = Path(__file__).resolve().parent.parent / ".demo-api-key.json"


class Failure(Exception):
    """A problem to report in one line (exit status 2)."""


def demo_credentials(path: Path = DEMO_KEY_FILE) -> tuple[str, str]:
    if not path.exists():
        return "", ""
    try:
        data = json.loads(path.read_text())
        return str(data["keyId"]), str(data["secret"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise Failure(
            f"the key file {path} is not a JSON object with keyId and secret ({error}); "
            "run `make run` again, or pass --key-id and --secret"
        ) from None


def read_body(file: str | None) -> bytes:
    if not file:
        return b""
    try:
        return Path(file).read_bytes()
    except OSError as error:
        raise Failure(f"cannot read {file}: {error.strerror or error}") from None


def send(request: urllib.request.Request, *, url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except urllib.error.URLError as error:
        reason = getattr(error.reason, "strerror", None) or error.reason
        raise Failure(f"cannot reach {url}: {reason} (is the server running?)") from None
    except TimeoutError:
        raise Failure(f"no answer from {url} within 120 seconds") from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="JSON body to send (omit for GET or an empty body)")
    parser.add_argument("--url", default=os.environ.get("QV_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--path", default="/api/v1/ocr/analyze")
    parser.add_argument("--method", default=None, help="POST with a file, GET without")
    parser.add_argument("--key-id", default=os.environ.get("QV_KEY_ID"))
    parser.add_argument("--secret", default=os.environ.get("QV_SECRET"))
    parser.add_argument("--key-file", type=Path, default=DEMO_KEY_FILE, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        return run(args)
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    key_id, secret = args.key_id, args.secret
    if not (key_id and secret):
        key_id, secret = demo_credentials(args.key_file)
    if not (key_id and secret):
        raise Failure("no API key: pass --key-id and --secret, or run `make run` once")
    body = read_body(args.file)
    method = args.method or ("POST" if args.file else "GET")
    headers = {"X-Api-Key": key_id, **sign(secret=secret, method=method, path=args.path, body=body)}
    if body:
        headers["Content-Type"] = "application/json"
    url = args.url.rstrip("/") + args.path
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
    status, payload = send(request, url=args.url)
    print(f"HTTP {status}", file=sys.stderr)
    try:
        print(json.dumps(json.loads(payload), ensure_ascii=False, indent=2))
    except ValueError:
        print(payload.decode(errors="replace"))
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
