from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quickvault.backups import BackupError, back_up, backup_directory, backups_to_keep


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump on PostgreSQL, SQLite's backup API on the embedded "
        "default) into BACKUP_DIR, keep the newest BACKUP_KEEP, and print the file's path last."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=None, help="Default: BACKUP_DIR.")
        parser.add_argument("--keep", type=int, default=None, help="Default: BACKUP_KEEP (7).")

    def handle(self, *args, dir: Path | None, keep: int | None, **options) -> None:
        try:
            path = back_up(
                directory=dir or backup_directory(),
                keep=backups_to_keep() if keep is None else keep,
            )
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(path))
