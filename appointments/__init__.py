"""One-to-one client appointments: one client, one or two workers, at the office, at home, by
phone or by video; booked, moved, cancelled, marked held or no-show; the next one booked in one
click. Their times take part in the one conflict check (``core.conflicts``)."""
