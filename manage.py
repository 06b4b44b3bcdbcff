#!/usr/bin/env python
import os
import sys

# Commands that open no database connection, so none is probed before them.
NO_DATABASE_COMMANDS = frozenset(
    {"help", "--help", "-h", "version", "--version", "check", "collectstatic", "diffsettings"}
)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickvault.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    from quickvault import startup

    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    # A configuration or a database that stops a command reads as one line, not a traceback.
    try:
        if command == "runserver":
            startup.exit_unless_ready()
        elif command not in NO_DATABASE_COMMANDS and (problem := startup.database_problem()):
            sys.exit(f"error: {problem}")
        execute_from_command_line(sys.argv)
    except (ImproperlyConfigured, OperationalError) as error:
        sys.exit(f"error: {startup.describe_failure(error)}")


if __name__ == "__main__":
    main()
