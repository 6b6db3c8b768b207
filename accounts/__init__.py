"""Staff accounts: login, server-side sessions, login throttling, staff administration."""
