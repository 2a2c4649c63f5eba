"""Log-in, log-out and remember-me."""

from __future__ import annotations

from tests.conftest import PASSWORD


def test_wrong_password_is_refused(app, owner):
    client = app.test_client()

    response = client.post("/login", data={"email": owner.email, "password": "nope"})

    assert response.status_code == 200
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_anonymous_is_sent_to_log_in_with_next(app, workspace):
    response = app.test_client().get(f"/w/{workspace.slug}/clientflow/")

    assert response.status_code == 302
    assert "/login?next=" in response.location


def test_next_never_leaves_the_site(app, owner):
    response = app.test_client().post(
        "/login?next=https://evil.example/",
        data={"email": owner.email, "password": PASSWORD},
    )

    assert response.location == "/"


def test_logout_ends_a_remember_me_cookie(app, owner, login):
    client = login(app.test_client(), owner, remember=True)
    cookie = client.get_cookie("remember_token")
    assert cookie is not None

    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", cookie.value)
    response = thief.get("/account")

    assert response.status_code == 302
    assert "/login" in response.location


def test_remember_me_signs_in_a_fresh_session(app, owner, login):
    client = login(app.test_client(), owner, remember=True)
    cookie = client.get_cookie("remember_token")

    fresh = app.test_client()
    fresh.set_cookie("remember_token", cookie.value)

    assert fresh.get("/account").status_code == 200


def test_logout_needs_post(owner_client):
    assert owner_client.get("/logout").status_code == 405
