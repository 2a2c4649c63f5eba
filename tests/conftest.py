"""Fixtures shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when
CLIENTFLOW_TEST_DATABASE_URL names a server (``make test`` does both). The
schema is built once per run by the real migrations; every test starts from
empty tables.
"""

from __future__ import annotations

import itertools
import os
import socket
from contextlib import contextmanager
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import g

from host_stub import create_app, migrating
from host_stub.extensions import db
from host_stub.models import Membership, User, Workspace
from host_stub.plugin_state import set_enabled

TEST_KEY = Fernet.generate_key().decode()
PASSWORD = "correct horse battery"
_ids = itertools.count(1)


def pytest_report_header(config):
    url = os.environ.get("CLIENTFLOW_TEST_DATABASE_URL")
    return f"database: {'PostgreSQL' if url else 'SQLite'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("CLIENTFLOW_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


def make_app(database_url: str, instance_path: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": instance_path,
        "WTF_CSRF_ENABLED": False,
        "CLIENTFLOW_ENCRYPTION_KEYS": TEST_KEY,
        "MAIL_PORT": 1,
        "MAIL_TIMEOUT": 5,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = make_app(database_url, str(tmp_path_factory.mktemp("instance")))
    with app.app_context():
        _drop_everything()
        migrating.upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _drop_everything() -> None:
    meta = sa.MetaData()
    meta.reflect(db.engine)
    meta.drop_all(db.engine)


@pytest.fixture(autouse=True)
def _empty_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    # The test's own context may hold a transaction that would block TRUNCATE.
    from flask import has_app_context

    if has_app_context():
        db.session.remove()
    with app.app_context():
        db.session.remove()
        tables = [
            t
            for t in reversed(db.metadata.sorted_tables)
            if not t.name.startswith("alembic_version")
        ]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())


@pytest.fixture
def make_workspace(app):
    """A workspace, with ClientFlow enabled unless ``enabled=False``."""

    def make(slug=None, *, enabled=True, **fields) -> Workspace:
        n = next(_ids)
        fields.setdefault("name", f"Agency {n}")
        fields.setdefault("timezone", "Europe/Madrid")
        fields.setdefault("currency", "EUR")
        fields.setdefault("language", "en")
        workspace = Workspace(slug=slug or f"ws{n}", **fields)
        db.session.add(workspace)
        db.session.commit()
        if enabled:
            set_enabled(workspace, "clientflow", True, by=None)
        return workspace

    return make


@pytest.fixture
def make_user(app):
    """A user, and their membership when ``workspace`` and ``role`` are given."""

    def make(role=None, workspace=None, *, email=None, language=None, **fields):
        n = next(_ids)
        user = User(
            email=email or f"user{n}@agency.example",
            display_name=fields.pop("display_name", f"User {n}"),
            language=language,
            **fields,
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        if workspace is not None:
            db.session.add(Membership(user=user, workspace=workspace, role=role))
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(app):
    """Log a test client in as ``user``; returns the client."""

    def do_login(client, user, remember=False):
        response = client.post(
            "/login",
            data={"email": user.email, "password": PASSWORD, "remember": remember},
        )
        assert response.status_code == 302, "log-in failed"
        return client

    return do_login


@pytest.fixture
def workspace(make_workspace):
    return make_workspace("acme")


@pytest.fixture
def owner(make_user, workspace):
    return make_user("agency_owner", workspace, display_name="Olga Owner")


@pytest.fixture
def owner_client(app, owner, login):
    return login(app.test_client(), owner)


@pytest.fixture
def role_client(app, make_user, workspace, login):
    """A client logged in as a new member of ``workspace`` with ``role``."""

    def make(role):
        return login(app.test_client(), make_user(role, workspace))

    return make


@pytest.fixture
def query_counter(app):
    """Count the SQL statements run inside a ``with`` block."""

    @contextmanager
    def count():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return count


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """Messages received by the test SMTP server, parsed."""

    def __init__(self):
        self.messages = []

    def __len__(self):
        return len(self.messages)

    def last(self):
        return self.messages[-1]


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback; the app sends its mail there."""
    from aiosmtpd.controller import Controller

    box = Mailbox()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            message = message_from_bytes(envelope.content, policy=policy.default)
            message.envelope_rcpt = list(envelope.rcpt_tos)
            box.messages.append(message)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = port
    yield box
    app.config["MAIL_PORT"] = previous
    controller.stop()


@pytest.fixture
def no_smtp_server(app):
    """Point the app at a loopback port where nothing listens."""
    previous = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()
    yield
    app.config["MAIL_PORT"] = previous


@pytest.fixture(autouse=True)
def _fresh_request_globals(app):
    yield
    g.pop("plugin_state_cache", None)


CHROMIUM = os.environ.get("CLIENTFLOW_CHROMIUM", "/usr/bin/chromium")
OUTPUT = os.path.join(os.path.dirname(__file__), "..", "test-output")


@pytest.fixture(scope="session")
def live_server_url(app):
    """The app served by a real HTTP server on loopback, in a thread."""
    import threading

    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; no browser is downloaded."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps`")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page; a screenshot is kept if the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        save_screenshot(page, f"FAILED-{request.node.name}")
    context.close()


def save_screenshot(page, name: str) -> str:
    """Save a full-page screenshot under test-output/screenshots/."""
    folder = os.path.join(OUTPUT, "screenshots")
    os.makedirs(folder, exist_ok=True)
    path = os.path.abspath(os.path.join(folder, f"{name}.png"))
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture
def browser_login(live_server_url):
    """Sign a Playwright page in as ``user`` through the log-in form."""

    def do_login(page, user, password=PASSWORD):
        page.goto(f"{live_server_url}/login")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return do_login


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def pytest_collection_modifyitems(items):
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
