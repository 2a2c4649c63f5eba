"""Migrations: empty to head, down to base, up again; one head per script folder."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from host_stub import migrating
from host_stub.extensions import db
from tests.conftest import make_app


def table_names(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_downgrade_upgrade_on_sqlite(tmp_path):
    url = "sqlite:///" + str(tmp_path / "migrations.db")
    app = make_app(url, str(tmp_path))
    with app.app_context():
        migrating.upgrade()
        after_up = table_names(db.engine)
        migrating.downgrade()
        after_down = table_names(db.engine)
        migrating.upgrade()
        again = table_names(db.engine)
        db.engine.dispose()

    assert {
        "users",
        "workspaces",
        "clientflow_invoices",
        "clientflow_clients",
    } <= after_up
    assert "alembic_version_clientflow" in after_up and "alembic_version" in after_up
    assert {n for n in after_down if not n.startswith("alembic_version")} == set()
    assert again == after_up


def test_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": _not_version_table}
        )
        diff = compare_metadata(context, db.metadata)

    assert diff == []


def _not_version_table(name, type_, parent_names):
    return not (type_ == "table" and name.startswith("alembic_version"))


def test_each_script_folder_has_one_head(app):
    for source in migrating.sources():
        script = ScriptDirectory(source.script_location)
        assert len(script.get_heads()) == 1, source.name
