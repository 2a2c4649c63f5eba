"""``flask clientflow ...``: ClientFlow's commands, several meant for cron."""

from __future__ import annotations

import click
from cryptography.fernet import Fernet
from flask.cli import AppGroup

from .commands import (
    check_totals_command,
    rotate_key_command,
    run_schedules_command,
    send_reminders_command,
)
from .import_command import import_history

clientflow_cli = AppGroup("clientflow", help="ClientFlow's commands.")


@clientflow_cli.command("generate-key")
def generate_key() -> None:
    """Print a new Fernet key for CLIENTFLOW_ENCRYPTION_KEYS."""
    click.echo(Fernet.generate_key().decode("ascii"))


# Recurring invoices, reminders, key rotation and the totals' check live in
# their own module.
for _command in (
    run_schedules_command,
    send_reminders_command,
    rotate_key_command,
    check_totals_command,
):
    clientflow_cli.add_command(_command)

clientflow_cli.add_command(import_history)
