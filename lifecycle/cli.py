"""``flask retention [--dry-run]`` (lifecycle.retention) and ``flask access-log verify|anchor``:
checking the access log's hash chain (register.chain).

``verify`` walks the chain and names the first row that was changed, removed or inserted out of
order; given the anchors of earlier days (``--anchor HASH``) it also checks that the chain still
passes through each of them, which a rewrite of the whole tail cannot. ``anchor`` (daily, from
cron) verifies the chain and writes its latest hash to the server log, where it is out of reach
of anyone who can edit the database only."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Blueprint, current_app

from core.db import immediate_transactions, utcnow
from core.extensions import db
from register import chain

from . import retention


def _verify(anchors: tuple[str, ...] = ()) -> chain.Verdict:
    try:
        with db.engine.connect() as connection:
            return chain.verify(connection, anchors=anchors, secret=current_app.config["SECRET_KEY"])
    except sa.exc.SQLAlchemyError as error:
        # A broken database is a clear failure, not a traceback (the message names the cause).
        cause = getattr(error, "orig", None) or error
        raise click.ClickException(f"The access log could not be read: {type(cause).__name__}: "
                                   f"{str(cause).splitlines()[0] if str(cause) else ''}") from None


def register_commands(bp: Blueprint) -> None:
    @bp.cli.group("access-log")
    def access_log() -> None:
        """The access log's hash chain."""

    @access_log.command("verify")
    @click.option("--anchor", "anchors", multiple=True, metavar="HASH",
                  help="A hash written earlier by 'anchor'; the chain must still pass through it.")
    def verify(anchors: tuple[str, ...]) -> None:
        """Check every row of the access log against the chain."""
        verdict = _verify(anchors)
        if not verdict.ok:
            raise click.ClickException(f"Access log check FAILED: {verdict.message}")
        click.echo(verdict.message)

    @access_log.command("anchor")
    def anchor() -> None:
        """Verify the chain and write its latest hash to the server log (run daily)."""
        verdict = _verify()
        if not verdict.ok:
            current_app.logger.error("access-log anchor refused: %s", verdict.message)
            raise click.ClickException(f"Access log check FAILED: {verdict.message}")
        line = f"access-log anchor: rows={verdict.rows} last_id={verdict.last_id or 0} hash={verdict.last_hash or chain.GENESIS}"
        current_app.logger.warning(line)
        click.echo(line)

    @bp.cli.command("retention")
    @click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
    def retention_command(dry_run: bool) -> None:
        """Remove what the retention settings say is no longer kept (run daily from cron)."""
        config = current_app.config
        settings = retention.Settings.from_config(config)
        now = utcnow()
        idle = int(config["SESSION_IDLE_MINUTES"])
        if dry_run:
            counts = retention.plan(now, settings, idle)
            db.session.rollback()
        else:
            db.session.rollback()  # the settings check read nothing, but start clean: the lock is taken at BEGIN
            with immediate_transactions():
                counts = retention.apply(now, settings, idle, config["SECRET_KEY"])
                db.session.commit()  # own commit: a command, not a request; one transaction per run
        heading = "would remove" if dry_run else "removed"
        click.echo(f"retention {heading} ({now:%Y-%m-%d %H:%M} UTC):")
        for kind, count in counts.items():
            click.echo(f"  {kind}: {count}")
