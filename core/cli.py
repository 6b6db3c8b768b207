"""Command-line tools: demo data and translation catalogues. Features add their own commands
on their blueprints (``flask calendar …``, ``flask send-reminders``)."""
from __future__ import annotations

import click
from flask import Flask

from .extensions import db


def init_cli(app: Flask) -> None:
    from .backup import init_backup_cli

    init_backup_cli(app)

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no users.")
    def seed_demo(if_empty: bool) -> None:
        """Load the demo data set (staff, partners, clients, groups, meetings, feedback)."""
        from .demo import DEMO_LOGINS, DEMO_PASSWORD, database_is_empty, seed_all

        if not database_is_empty():
            if if_empty:
                click.echo("Database already has data; demo data not loaded.")
                _print_logins(DEMO_LOGINS, DEMO_PASSWORD)
                return
            raise click.ClickException("The database is not empty; demo data goes only into an empty database.")
        seed_all()
        db.session.commit()  # own commit: a CLI command (no request, so no request commit)
        click.echo("Demo data loaded.")
        _print_logins(DEMO_LOGINS, DEMO_PASSWORD)

    def _print_logins(logins, password):
        click.echo("Demo logins (demo data only):")
        for email, role in logins:
            click.echo(f"  {role:<12} {email}  password: {password}")

    @app.cli.group("translate")
    def translate() -> None:
        """Translation catalogues (one per package)."""

    @translate.command("update")
    @click.option("--only", default=None, help="Only this package's catalogue (core for the shared parts).")
    def translate_update(only: str | None) -> None:
        """Extract messages and update the fi and sv catalogues."""
        from .i18n_tools import catalog_specs, update

        for spec in catalog_specs():
            if only and spec.name != only:
                continue
            for path in update(spec):
                click.echo(f"updated {path}")

    @translate.command("compile")
    def translate_compile() -> None:
        """Compile every catalogue to .mo (the build does this; .mo files are not committed)."""
        from .i18n_tools import compile_all

        written = compile_all()
        click.echo(f"compiled {len(written)} catalogues")

    @translate.command("check")
    def translate_check() -> None:
        """List messages that a catalogue does not translate yet."""
        from .i18n_tools import catalog_specs, missing_translations

        gaps = 0
        for spec in catalog_specs():
            for locale, ids in missing_translations(spec).items():
                for msgid in ids:
                    gaps += 1
                    click.echo(f"{spec.name} {locale}: {msgid}")
        if gaps:
            raise click.ClickException(f"{gaps} untranslated messages")
        click.echo("all catalogues complete")
