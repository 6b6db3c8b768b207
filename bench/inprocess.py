"""The app in process, with a test client logged in as the benchmark's lead through the real
login form: for the measurements that need no server (query counts, profiles, SQL timings)."""
from __future__ import annotations

from .load import CSRF_RE


def app_and_client(url: str, state: dict, *, name: str, login: bool = True):
    """(app, client). Requests run without an outer app context, as in a server: each gets a
    fresh ``g`` and session."""
    from app import create_app
    from core.setup import freeze_long_lived_objects

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": f"bench-{name}", "TESTING": True,
                      "SERVER_NAME": None, "BASE_URL": "http://localhost"})
    freeze_long_lived_objects()  # as a gunicorn worker does (gunicorn.conf.py)
    client = app.test_client()
    if login:
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
        response = client.post("/login", data={"csrf_token": token, "email": state["lead_email"],
                                               "password": state["password"]})
        if response.status_code != 302:
            raise RuntimeError(f"login answered {response.status_code}")
    return app, client
