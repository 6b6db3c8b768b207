"""Client data over its lifetime: the client's own copy of their data (GDPR Art. 15)."""
