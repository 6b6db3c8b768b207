"""The register: clients (minimal data), their relatives, partner organisations and contacts,
and the access log of client data (Act 703/2023)."""
