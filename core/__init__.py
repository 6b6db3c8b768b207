"""Shared parts every feature stands on: extensions, database types, time, i18n, security, access log."""
