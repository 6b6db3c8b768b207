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


def staff_admin_required(view):
    """Staff administration: leads (for the units they lead) and county administrators (for
    every unit). Anyone else gets 403."""
    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.can_manage_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def county_admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_county_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper
