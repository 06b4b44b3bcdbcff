import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ocr.models import ApiKey, OcrRequest, RequestStatus
from prompts.models import DocumentType, PromptTemplate
from quickvault import backups
from tests.signing import SignedClient

# Restoring replaces the whole database, which a test's wrapping transaction cannot hold.
round_trip = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def backup_suffix() -> str:
    return backups.POSTGRES_SUFFIX if connection.vendor == "postgresql" else backups.SQLITE_SUFFIX


def run_backup(directory: Path, *extra: str) -> Path:
    out = io.StringIO()
    call_command("backup", "--dir", str(directory), *extra, stdout=out)
    return Path(out.getvalue().strip().splitlines()[-1])


@round_trip
def test_a_restore_brings_back_keys_log_rows_and_templates_deleted_after_the_backup(tmp_path):
    key, secret = ApiKey.issue(name="iOS app", rate_limit=0)
    row = OcrRequest.objects.create(
        api_key=key, document_type="idCard", status=RequestStatus.SUCCESS, cost=Decimal("0.0012")
    )
    template = PromptTemplate.objects.create(
        document_type=DocumentType.objects.get(key="idCard"),
        name="ID card, terse",
        version="9.9.9",
        system_prompt="Read the card.",
        user_prompt="{{ocr_text}}",
    )
    counts = (ApiKey.objects.count(), OcrRequest.objects.count(), PromptTemplate.objects.count())

    path = run_backup(tmp_path)
    row.delete()
    template.delete()
    key.delete()
    call_command("restore", "--noinput", str(path), stdout=io.StringIO())

    restored_key = ApiKey.objects.get(key_id=key.key_id)
    assert restored_key.signing_secret() == secret.encode()
    assert (
        ApiKey.objects.count(),
        OcrRequest.objects.count(),
        PromptTemplate.objects.count(),
    ) == counts
    restored_row = OcrRequest.objects.get(request_id=row.request_id)
    assert (restored_row.api_key_id, restored_row.cost) == (restored_key.pk, Decimal("0.0012"))
    restored_template = PromptTemplate.objects.get(document_type__key="idCard", version="9.9.9")
    assert restored_template.system_prompt == "Read the card."
    response = SignedClient(key_id=key.key_id, secret=secret).get("/api/v1/document-types")
    assert response.status_code == 200
    assert "idCard" in {item["key"] for item in response.json()}


@round_trip
def test_a_backup_is_named_for_the_utc_moment_and_printed_last(tmp_path):
    path = run_backup(tmp_path)

    assert path.parent == tmp_path
    assert path.is_file()
    assert path.name.startswith(backups.FILE_PREFIX)
    assert path.name.endswith("Z" + backup_suffix())
    assert not list(tmp_path.glob("*.partial"))


@round_trip
def test_a_backup_keeps_only_the_newest_ones_and_leaves_other_files_alone(tmp_path):
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("mine")

    made = [run_backup(tmp_path, "--keep", "2") for _ in range(3)]

    assert sorted(tmp_path.glob(f"*{backup_suffix()}")) == made[1:]
    assert unrelated.read_text() == "mine"


@pytest.mark.django_db
def test_backup_keep_must_be_a_positive_number(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKUP_KEEP", "0")

    with pytest.raises(CommandError, match="BACKUP_KEEP must be 1 or more"):
        run_backup(tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_restore_of_a_missing_file_says_so_in_one_line(tmp_path):
    missing = tmp_path / f"quickvault-none{backup_suffix()}"

    with pytest.raises(CommandError, match=r"^No backup file at .*none"):
        call_command("restore", "--noinput", str(missing))


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    junk = tmp_path / f"quickvault-junk{backup_suffix()}"
    junk.write_bytes(b"not a database at all")

    with pytest.raises(CommandError, match="is not"):
        call_command("restore", "--noinput", str(junk))
    assert ApiKey.objects.model._meta.db_table in connection.introspection.table_names()


@pytest.mark.django_db
def test_restore_refuses_a_backup_of_the_other_kind_of_database(tmp_path):
    other = ".sqlite3" if connection.vendor == "postgresql" else ".dump"
    wrong = tmp_path / f"quickvault-x{other}"
    wrong.write_bytes(b"anything")

    with pytest.raises(CommandError, match=f"is not a {connection.vendor} backup"):
        call_command("restore", "--noinput", str(wrong))


@pytest.mark.django_db
def test_restore_asks_before_replacing_the_database_and_stops_without_a_yes(monkeypatch, tmp_path):
    key, _ = ApiKey.issue(name="kept")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="Restore cancelled"):
        call_command("restore", str(tmp_path / f"quickvault-x{backup_suffix()}"))
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_a_missing_pg_dump_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(backups.BackupError, match=r"^pg_dump is not installed"):
        backups._run_postgres_tool(["pg_dump", "--version"], {"NAME": "quickvault"})


def test_the_database_password_goes_to_the_environment_not_the_command_line():
    environment = backups._postgres_environment(
        {"NAME": "qv", "USER": "app", "PASSWORD": "s3cret", "HOST": "db", "PORT": 5432}
    )

    assert (environment["PGPASSWORD"], environment["PGHOST"], environment["PGPORT"]) == (
        "s3cret",
        "db",
        "5432",
    )
