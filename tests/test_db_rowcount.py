"""``core.db.rowcount``: the number of rows an UPDATE or DELETE run through the request's session
matched (what the TOTP replay guard, answer slips and the retention job decide on), on both
databases; anything that is not such a result is refused, never read as a count."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from accounts.models import LoginAttempt
from core.db import rowcount
from core.extensions import db


def test_the_rows_an_update_and_a_delete_matched(app, fresh_db):
    db.session.add_all([LoginAttempt(email=f"x{i}@example.org", address="10.0.0.1", success=False)
                        for i in range(3)])
    db.session.flush()
    matched = rowcount(db.session.execute(sa.update(LoginAttempt).where(LoginAttempt.email != "x0@example.org")
                                          .values(success=True)))
    assert matched == 2
    assert rowcount(db.session.execute(sa.update(LoginAttempt).where(LoginAttempt.email == "nobody")
                                       .values(success=True))) == 0
    assert rowcount(db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.success.is_(True)))) == 2
    db.session.commit()
    assert fresh_db.scalars(sa.select(LoginAttempt.email)) == ["x0@example.org"]


def test_a_query_result_is_not_a_count(app):
    with pytest.raises(TypeError):
        rowcount(db.session.execute(sa.select(LoginAttempt.id)))
