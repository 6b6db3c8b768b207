"""A participant answers while staff remove the session (and with it its feedback window, ON
DELETE CASCADE) on another worker: the answer is refused calmly with the page for a code that
is not there, never a server error, and nothing is stored."""
from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from feedback import views
from feedback.models import FeedbackResponse, FeedbackWindow
from tests.test_feedback_factories import open_session_window


def test_an_answer_to_a_window_removed_meanwhile_gets_the_unknown_code_page(client, facilitator, fresh_db,
                                                                            monkeypatch):
    window = open_session_window([facilitator])
    url = f"/f/{window.code}"
    data = {f"item_{item.id}": "7" for item in window.item_set.items}
    data.update(window_id=str(window.id), comment="")
    data["csrf_token"] = client.csrf_token(url)
    window_id, session_id = window.id, window.session_id
    real_form = views.response_form

    def removed_meanwhile(*args, **kwargs):
        # Another worker deletes the session, on its own connection, after the form's lookup.
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM group_session WHERE id = :id"), {"id": session_id})
        return real_form(*args, **kwargs)

    monkeypatch.setattr(views, "response_form", removed_meanwhile)
    response = client.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    assert "Emme löytäneet tätä koodia" in page, page[:500]
    assert fresh_db.get(FeedbackWindow, window_id) is None   # the deletion really happened first
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse)) == 0
    assert "kohtaamo_feedback_given" not in response.headers.get("Set-Cookie", "")
