"""Command-line tools of the platform: migrations, demo data, plugin state."""

from __future__ import annotations

import logging
import time

import click
from alembic import command
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from . import migrating
from .extensions import db
from .models import Membership, User, Workspace
from .plugin_state import set_enabled

logger = logging.getLogger(__name__)

db_cli = AppGroup("db", help="Database migrations of the host and its plugins.")
plugins_cli = AppGroup("plugins", help="Plugins and their per-workspace state.")

DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = [
    ("owner@demo.example", "Olivia Owner", "agency_owner"),
    ("manager@demo.example", "Marco Manager", "manager"),
    ("developer@demo.example", "Dana Developer", "developer"),
    ("client@demo.example", "Carla Client", "client"),
]
ADMIN_EMAIL = "admin@demo.example"


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Upgrade the host's and every plugin's tables."""
    migrating.upgrade(revision)
    click.echo("database upgraded")


@db_cli.command("downgrade")
@click.argument("revision", default="base")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Downgrade every plugin's tables and then the host's."""
    migrating.downgrade(revision)
    click.echo("database downgraded")


@db_cli.command("revision")
@click.option("--source", default="host", help="host or a plugin's name")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
@with_appcontext
def db_revision(source: str, message: str, autogenerate: bool) -> None:
    """Write a new migration script for the host or one plugin."""
    src = migrating.find_source(source)
    with db.engine.begin() as connection:
        cfg = migrating.alembic_config(src, connection)
        command.revision(cfg, message=message, autogenerate=autogenerate)


@db_cli.command("heads")
@with_appcontext
def db_heads() -> None:
    """Show the head revision of every script folder."""
    for src in migrating.sources():
        click.echo(f"{src.name}:")
        command.heads(migrating.alembic_config(src))


@plugins_cli.command("list")
@with_appcontext
def plugins_list() -> None:
    """List the plugins found and whether they loaded."""
    host = current_app.extensions["workspace_plugins"]
    for record in host.records.values():
        status = f"FAILED: {record.error}" if record.failed else "loaded"
        click.echo(f"{record.name}\t{record.info.get('version', '-')}\t{status}")


def _set_state(slug: str, plugin: str, enabled: bool) -> None:
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise click.ClickException(f"no workspace with slug {slug!r}")
    try:
        set_enabled(workspace, plugin, enabled, by=None)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{plugin} {'enabled' if enabled else 'disabled'} for {slug}")


@plugins_cli.command("enable")
@click.argument("plugin")
@click.option("--workspace", "slug", required=True)
@with_appcontext
def plugins_enable(plugin: str, slug: str) -> None:
    """Switch a plugin on for one workspace."""
    _set_state(slug, plugin, True)


@plugins_cli.command("disable")
@click.argument("plugin")
@click.option("--workspace", "slug", required=True)
@with_appcontext
def plugins_disable(plugin: str, slug: str) -> None:
    """Switch a plugin off for one workspace; its data is kept."""
    _set_state(slug, plugin, False)


def make_user(email: str, name: str, password: str, admin: bool = False) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, display_name=name, is_platform_admin=admin)
        db.session.add(user)
    user.set_password(password)
    return user


@click.command("seed-demo")
@click.option("--slug", default="demo", show_default=True)
@with_appcontext
def seed_demo(slug: str) -> None:
    """Create the demo workspace, one member of each role and the plugins' data."""
    if db.session.scalar(select(Workspace).where(Workspace.slug == slug)):
        click.echo(f"workspace {slug!r} already exists; nothing seeded")
        _print_logins(slug)
        return
    started = time.monotonic()
    workspace = Workspace(
        slug=slug,
        name="Estudio Nube Creativa",
        timezone="Europe/Madrid",
        currency="EUR",
        language="es",
    )
    db.session.add(workspace)
    for email, name, role in DEMO_USERS:
        user = make_user(email, name, DEMO_PASSWORD)
        db.session.add(Membership(user=user, workspace=workspace, role=role))
    make_user(ADMIN_EMAIL, "Ada Admin", DEMO_PASSWORD, admin=True)
    other = Workspace(slug=f"{slug}-other", name="Otra Agencia", timezone="UTC")
    db.session.add(other)
    outsider = make_user("owner@other.example", "Oscar Other", DEMO_PASSWORD)
    db.session.add(Membership(user=outsider, workspace=other, role="agency_owner"))
    db.session.commit()

    host = current_app.extensions["workspace_plugins"]
    for record in host.active():
        set_enabled(workspace, record.name, True, by=None)
        click.echo(f"seeding {record.name} demo data ...")
        host.call_one(record.name, "workspace_seed_demo", workspace=workspace)
        db.session.commit()
    click.echo(f"demo seeded in {time.monotonic() - started:.1f}s")
    _print_logins(slug)


def _print_logins(slug: str) -> None:
    click.echo("")
    click.echo(f"Demo workspace: /w/{slug}/   password for every user: {DEMO_PASSWORD}")
    for email, _name, role in DEMO_USERS:
        click.echo(f"  {role:<13} {email}")
    click.echo(f"  {'platform admin':<13} {ADMIN_EMAIL}")
    click.echo(f"  {'other owner':<13} owner@other.example  (workspace {slug}-other)")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="make the user a platform admin")
@with_appcontext
def create_user(email: str, name: str, password: str, admin: bool) -> None:
    """Create a user, or reset the password of an existing one."""
    make_user(email, name, password, admin)
    db.session.commit()
    click.echo(f"user {email} saved")


@click.command("dev-smtpd")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True)
@with_appcontext
def dev_smtpd(host: str, port: int) -> None:
    """Run a development SMTP server that keeps every mail in the outbox."""
    from .mail import run_outbox_server

    controller = run_outbox_server(current_app._get_current_object(), host, port)
    click.echo(f"development SMTP server on {host}:{port}; mail goes to /dev/outbox")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(plugins_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(dev_smtpd)
