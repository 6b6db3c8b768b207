"""Role checks as decorators for views."""
from __future__ import annotations

import functools

from flask import abort
from flask_login import current_user, login_required


def lead_required(view):
    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_lead:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
