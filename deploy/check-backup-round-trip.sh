#!/usr/bin/env bash
# A backup and restore round trip on PostgreSQL through `make backup` and `make restore`, on a
# scratch database of its own: migrate, seed, make a key and a log row, back up, drop and
# recreate the database, restore, then check that the key still signs and that every count matches.
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST_ADDRESS=${PGHOST_ADDRESS:-127.0.0.1}
DB=${BACKUP_CHECK_DATABASE:-quickvault_backup_check}
export DATABASE_URL="postgres://postgres@${PGHOST_ADDRESS}:5432/${DB}"
BACKUP_DIR=$(mktemp -d)
export BACKUP_DIR
unset REDIS_URL OPENAI_API_KEY OPENAI_BASE_URL
# A production-like run: a key of this run's own (the service refuses to start without one), and
# the API keys' own encryption key, which the restored database must still be read with.
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
API_KEY_ENCRYPTION_KEY=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
export SECRET_KEY API_KEY_ENCRYPTION_KEY
# Each command here is one short-lived process: one connection is enough.
export DB_POOL_MIN_SIZE=1
# dropdb --if-exists need not say that there was nothing to drop.
export PGOPTIONS="--client-min-messages=warning"
PY=.venv/bin/python

cleanup() {
  rm -rf "$BACKUP_DIR"
  dropdb --if-exists -h "$PGHOST_ADDRESS" -U postgres "$DB"
}
trap cleanup EXIT

recreate() {
  dropdb --if-exists -h "$PGHOST_ADDRESS" -U postgres "$DB"
  createdb -h "$PGHOST_ADDRESS" -U postgres "$DB"
}

# What the restore must bring back: every row count, and a key that signs.
COUNTS='
from django.apps import apps
print("counts", sorted((m._meta.label, m.objects.count()) for m in apps.get_models()))
'
SIGNS='
import json, os
from django.test import Client
from tests.signing import signature_headers
key = json.loads(os.environ["KEY"])
path = "/api/v1/document-types"
headers = signature_headers(
    key_id=key["keyId"], secret=key["secret"], method="GET", path=path, body=b""
)
status = Client().get(path, headers=headers, secure=True).status_code
print("signed request:", status)
raise SystemExit(0 if status == 200 else 1)
'
LOG_ROW='
from ocr.models import ApiKey, OcrRequest, RequestStatus
OcrRequest.objects.create(api_key=ApiKey.objects.first(), document_type="idCard",
                          status=RequestStatus.SUCCESS, fields={"name": "Zhang San"})
'

recreate
$PY manage.py migrate --noinput -v 0
$PY manage.py seed >/dev/null
KEY=$($PY manage.py create_api_key "backup check" --json)
export KEY
before=$($PY manage.py shell -v 0 -c "$LOG_ROW$COUNTS" | grep '^counts')

dump=$(make --no-print-directory backup | tail -1)
echo "backed up to $(basename "$dump")"
recreate
make --no-print-directory restore FILE="$dump"

checked=$($PY manage.py shell -v 0 -c "$COUNTS$SIGNS") || { echo "$checked"; exit 1; }
after=$(echo "$checked" | grep '^counts')
if [ "$before" != "$after" ]; then
  echo "row counts differ after the restore:"; echo "  before: $before"; echo "  after:  $after"
  exit 1
fi
echo "row counts match ($(echo "$before" | grep -o "('[a-z]*\.[A-Za-z]*', [0-9]*)" | wc -l) tables)"
echo "$checked" | grep '^signed request'
