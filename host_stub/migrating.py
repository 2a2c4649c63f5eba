"""``flask db``: the host's and every plugin's Alembic scripts, upgraded together.

Each owner keeps its own script folder and version table, so a plugin's
history never mixes with the host's or another plugin's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.resources import files

from alembic import command
from alembic.config import Config
from flask import current_app
from sqlalchemy.types import TypeDecorator

from .extensions import db

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    name: str
    script_location: str
    version_table: str


def sources() -> list[Source]:
    found = [Source("host", str(files("host_stub") / "migrations"), "alembic_version")]
    host = current_app.extensions["workspace_plugins"]
    for _name, src in host.call_each("workspace_migrations"):
        found.append(Source(src.name, src.script_location, src.version_table))
    return found


def alembic_config(source: Source, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", source.script_location)
    cfg.set_main_option("version_table", source.version_table)
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = source.version_table
    return cfg


def upgrade(revision: str = "heads") -> None:
    for source in sources():
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(source, connection), revision)
        logger.info("migrations of %s upgraded to %s", source.name, revision)


def downgrade(revision: str = "base") -> None:
    for source in reversed(sources()):
        with db.engine.begin() as connection:
            command.downgrade(alembic_config(source, connection), revision)
        logger.info("migrations of %s downgraded to %s", source.name, revision)


def find_source(name: str) -> Source:
    for source in sources():
        if source.name == name:
            return source
    raise LookupError(f"no migrations named {name!r}")


def run_plugin_migrations_env(context, include_table) -> None:
    """Body of an ``env.py``: run migrations on the connection ``flask db`` opened.

    ``include_table(name)`` says which tables belong to this script folder, so
    that autogenerate never proposes to drop another owner's tables.
    """
    config = context.config
    connection = config.attributes.get("connection")

    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "table":
            return include_table(name)
        table = getattr(obj, "table", None)
        return table is None or include_table(table.name)

    def render_item(type_, obj, autogen_context):
        # Scripts name the stored type, so they never import application code.
        if type_ == "type" and isinstance(obj, TypeDecorator):
            return f"sa.{obj.impl!r}"
        return False

    options = dict(
        target_metadata=db.metadata,
        render_item=render_item,
        version_table=config.attributes["version_table"],
        include_object=include_object,
        render_as_batch=True,
        compare_type=True,
    )
    if connection is None:
        with db.engine.begin() as connection:
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()
