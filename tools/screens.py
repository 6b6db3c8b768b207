"""Screenshots of the five main tasks at phone (360 px) and desktop (1280 px) width, for a
reviewer to see what users see: ``make screens`` writes docs/screens/<task>-<width>.png.

The app runs on a fresh SQLite database with the demo data (``flask seed-demo``), served on
127.0.0.1 by werkzeug in a thread, and Debian's Chromium is driven by Playwright (as the browser
tests do). The pages are found from the demo data, not from fixed ids:

1. plan a group: the group in planning;
2. a network meeting with a plan: the next meeting that has plan items;
3. roll call: the latest session held of a running group;
4. participant feedback: the answer form, reached by its code as a participant reaches it;
5. outreach visit: the next scheduled visit.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

import sqlalchemy as sa
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screens"
WIDTHS = {"360": {"width": 360, "height": 740}, "1280": {"width": 1280, "height": 900}}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
STAFF = ("ohjaaja@example.fi", "kohtaamo-demo")


def make_app(directory: Path):
    from app import create_app
    from core.extensions import db

    app = create_app({"SECRET_KEY": "screens", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'screens.db'}",
                      "WTF_CSRF_ENABLED": True, "BASE_URL": "http://127.0.0.1"})
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return app


def task_urls(app) -> dict[str, str]:
    """Task name -> URL, chosen from the demo data."""
    from core.db import utcnow
    from core.extensions import db
    from feedback import services as feedback
    from groups.models import Group, GroupSession
    from meetings.models import ActionItem, Meeting
    from outreach.models import OutreachVisit

    with app.app_context():
        now = utcnow()
        planning = db.session.scalar(sa.select(Group).where(Group.status == "planning").order_by(Group.id))
        meeting = db.session.scalar(sa.select(Meeting).join(ActionItem, ActionItem.meeting_id == Meeting.id)
                                    .where(Meeting.starts_at >= now).order_by(Meeting.starts_at))
        if meeting is None:
            meeting = db.session.scalar(sa.select(Meeting).join(ActionItem, ActionItem.meeting_id == Meeting.id)
                                        .order_by(Meeting.starts_at.desc()))
        session = db.session.scalar(sa.select(GroupSession).join(Group, Group.id == GroupSession.group_id)
                                    .where(Group.status == "running", GroupSession.starts_at <= now)
                                    .order_by(GroupSession.starts_at.desc()))
        upcoming = db.session.scalar(sa.select(GroupSession).where(GroupSession.starts_at >= now)
                                     .order_by(GroupSession.starts_at))
        window = feedback.adjust_window(feedback.open_session_window(upcoming), "open")
        visit = db.session.scalar(sa.select(OutreachVisit).where(OutreachVisit.starts_at >= now)
                                  .order_by(OutreachVisit.starts_at))
        urls = {
            "1-plan-a-group": f"/groups/{planning.id}",
            "2-network-meeting-plan": f"/meetings/{meeting.id}",
            "3-roll-call": f"/groups/{session.group_id}/sessions/{session.id}/roll-call",
            "4-participant-feedback": f"/f/{window.code}",
            "5-outreach-visit": f"/outreach/visits/{visit.id}",
        }
        db.session.commit()
    return urls


def shoot(base_url: str, urls: dict[str, str], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for width, viewport in WIDTHS.items():
            context = browser.new_context(viewport=viewport, base_url=base_url, locale="fi-FI")
            page = context.new_page()
            page.goto("/login")
            page.fill("#email", STAFF[0])
            page.fill("#password", STAFF[1])
            with page.expect_navigation():
                page.click("main form button[type=submit]")
            for name, url in urls.items():
                if name.startswith("4-"):
                    context.clear_cookies()  # a participant is not signed in
                response = page.goto(url)
                if response is None or response.status != 200:
                    raise SystemExit(f"{url}: {response and response.status}")
                path = out / f"{name}-{width}.png"
                page.screenshot(path=str(path), full_page=True, animations="disabled")
                written.append(path)
            context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        urls = task_urls(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            written = shoot(f"http://127.0.0.1:{server.socket.getsockname()[1]}", urls, args.out)
        finally:
            server.shutdown()
            thread.join(timeout=5)
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
