"""The built wheel installs into a fresh virtual environment and serves ClientFlow."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return next(out.glob("*.whl"))


def test_wheel_has_no_generic_top_level_names(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.endswith(".dist-info/")}
    tops = {t for t in tops if not t.endswith(".dist-info")}

    assert tops == {"clientflow_plugin", "host_stub"}
    assert "clientflow_plugin/templates/clientflow/dashboard.html" in names
    assert any(n.startswith("clientflow_plugin/migrations/versions/") for n in names)
    assert "clientflow_plugin/blueprints/dashboard.py" in names


def test_wheel_serves_clientflow_from_a_fresh_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The dependencies come from the suite's environment (no network needed);
    # a plain path line does not run that environment's editable-install hooks,
    # so ClientFlow itself can only come from the wheel.
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "suite_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    script = """
import sys
from host_stub import create_app, migrating
from host_stub.cli import make_user
from host_stub.extensions import db
from host_stub.models import Membership, Workspace
from host_stub.plugin_state import set_enabled
import clientflow_plugin
assert "site-packages" in clientflow_plugin.__file__, clientflow_plugin.__file__
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2], "WTF_CSRF_ENABLED": False,
                  "SECRET_KEY": "x", "CLIENTFLOW_DEV_KEY": True})
with app.app_context():
    migrating.upgrade()
    ws = Workspace(slug="w", name="W")
    user = make_user("o@w.example", "O", "pw-long-enough")
    db.session.add_all([ws, Membership(user=user, workspace=ws, role="agency_owner")])
    db.session.commit()
    set_enabled(ws, "clientflow", True, by=None)
c = app.test_client()
c.post("/login", data={"email": "o@w.example", "password": "pw-long-enough"})
r = c.get("/w/w/clientflow/")
print(r.status_code)
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [python, "-c", script, str(tmp_path / "w.db"), str(tmp_path / "inst")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("200")
