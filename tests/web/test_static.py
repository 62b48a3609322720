"""`/` serves the built dashboard next to /graphql, or says how to build it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.web import BUILD_HINT, mount_dashboard
from gridcast.settings import Settings


def test_missing_build_answers_503_with_how_to_build(tmp_path: Path) -> None:
    app = FastAPI()
    settings = Settings(deployment_file=tmp_path / "none.json")
    mount_dashboard(app, settings, dist=tmp_path / "dist")
    r = TestClient(app).get("/")
    assert r.status_code == 503
    assert BUILD_HINT in r.text
    cfg = TestClient(app).get("/dashboard/config.json").json()
    assert cfg["contracts"] == {} and "gridcast deploy" in cfg["error"]


def test_built_files_are_served_at_root(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    app = FastAPI()

    @app.get("/graphql")
    def gql() -> dict[str, str]:
        return {"ok": "graphql"}

    mount_dashboard(app, Settings(deployment_file=tmp_path / "none.json"), dist=dist)
    client = TestClient(app)
    assert "id=root" in client.get("/").text
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert client.get("/graphql").json() == {"ok": "graphql"}
