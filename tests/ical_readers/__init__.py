"""Independent iCalendar readers for the interoperability tests (``readers.read_all``)."""
