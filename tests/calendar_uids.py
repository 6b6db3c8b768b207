"""The UID a calendar event of this test's installation has (``calendar_export.installation``):
events created after the installation row get its own domain, not the old shared "@kohtaamo"."""
from __future__ import annotations


def calendar_uid(kind: str, record_id) -> str:
    from calendar_export.installation import uid_policy

    return f"{kind}-{record_id}@{uid_policy().domain}"
