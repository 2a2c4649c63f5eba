"""Security headers on every page; Spanish and English chosen per member."""

from __future__ import annotations

from host_stub.extensions import db


def test_security_headers_on_pages(owner_client, workspace):
    for url in ["/login", f"/w/{workspace.slug}/", f"/w/{workspace.slug}/clientflow/"]:
        response = owner_client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_language_comes_from_member_first(app, owner, workspace, login):
    owner.language = "es"
    workspace.language = "en"
    db.session.commit()
    client = login(app.test_client(), owner)

    html = client.get(f"/w/{workspace.slug}/members").get_data(as_text=True)

    assert '<html lang="es">' in html
    assert "Miembros" in html


def test_language_falls_back_to_workspace(app, owner, workspace, login):
    workspace.language = "es"
    db.session.commit()
    client = login(app.test_client(), owner)

    html = client.get(f"/w/{workspace.slug}/members").get_data(as_text=True)

    assert '<html lang="es">' in html


def test_language_falls_back_to_browser(app):
    html = (
        app.test_client()
        .get("/login", headers={"Accept-Language": "es-MX,es;q=0.9"})
        .get_data(as_text=True)
    )

    assert "Iniciar sesión" in html


def test_plugin_catalogue_is_loaded(app, owner, workspace, login):
    owner.language = "es"
    db.session.commit()
    client = login(app.test_client(), owner)

    html = client.get(f"/w/{workspace.slug}/clientflow/").get_data(as_text=True)

    assert "Clientes activos" in html


def test_too_large_body_gets_413_page(app, owner_client, workspace):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = owner_client.post(
            f"/w/{workspace.slug}/settings", data={"name": "x" * 5000}
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024

    assert response.status_code == 413
