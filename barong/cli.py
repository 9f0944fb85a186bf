"""Flask CLI commands: `flask seed`, `flask mail retry`, `flask kv purge`, `flask audit verify`,
`flask gdpr purge`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register_commands(app: Flask) -> None:
    @app.cli.command("seed")
    def seed_command():
        """Create levels, permissions, restrictions and the admin (idempotent)."""
        from barong.services import seeding
        from barong.services.infra import unit_of_work

        created = seeding.seed()
        unit_of_work.commit()
        click.echo(seeding.summary(created, seeding.present()))

    mail = AppGroup("mail", help="Mail delivery.")

    @mail.command("retry")
    def mail_retry():
        """Send every pending mail now (failed attempts too, their back-off ignored)."""
        from barong.services.delivery import mail as mail_service

        click.echo(f"sent {mail_service.retry_pending()}")

    app.cli.add_command(mail)

    kv = AppGroup("kv", help="Expiring key/value marks.")

    @kv.command("purge")
    def kv_purge():
        """Delete expired marks from the database store."""
        from barong.services.infra import kv as kv_service
        from barong.services.infra import unit_of_work

        n = kv_service.purge_expired()
        unit_of_work.commit()
        click.echo(f"purged {n}")

    app.cli.add_command(kv)

    security = AppGroup("security", help="Account protection (issue 15).")

    @security.command("expire-cooldowns")
    def security_expire_cooldowns():
        """Remove the `security: cooldown` label of every user whose cooldown has ended
        (the authz check already stops applying it at the end time; run from cron)."""
        from barong.services.accounts import cooldown
        from barong.services.infra import unit_of_work

        n = cooldown.sweep()
        unit_of_work.commit()
        click.echo(f"expired {n}")

    app.cli.add_command(security)
    from barong.events.cli import (
        events as events_group,  # flask events dispatch|stats|retry
    )
    app.cli.add_command(events_group)
    app.cli.add_command(__import__("barong.management_client", fromlist=["cli"]).cli)  # flask management …

    audit = AppGroup("audit", help="The tamper-evident activity log.")

    @audit.command("verify")
    def audit_verify():
        """Walk every activity chain; exit 1 naming the first broken row."""
        from barong.services.audit import chain
        from barong.services.infra import unit_of_work

        result = chain.verify(record=True)
        unit_of_work.commit()
        if result.ok:
            click.echo(f"ok: {result.rows} activities in {result.chains} chains")
            return
        click.echo(f"BROKEN: {result.problem}", err=True)
        if result.first_broken_id is not None:
            click.echo(f"first broken row: activity #{result.first_broken_id}", err=True)
        raise SystemExit(1)

    app.cli.add_command(audit)

    gdpr = AppGroup("gdpr", help="Personal data: erasure of deleted accounts.")

    @gdpr.command("purge")
    @click.option("--deleted-before", "deleted_before", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="Erase accounts deleted (last changed) before this date, YYYY-MM-DD.")
    def gdpr_purge(deleted_before):
        """Erase the personal data of deleted accounts; uid, labels and activities stay."""
        from barong.services.infra import unit_of_work
        from barong.services.privacy import purge

        report = purge.purge(deleted_before)
        unit_of_work.commit()
        rows = ", ".join(f"{t} {n}" for t, n in sorted(report.rows.items())) or "no rows"
        click.echo(f"purged {len(report.users)} account(s): {rows}; {report.files} file(s), "
                   f"{report.events} event(s)")

    app.cli.add_command(gdpr)

    kyc = AppGroup("kyc", help="KYC review housekeeping.")

    @kyc.command("expire-documents")
    @click.option("--today", default=None, help="run as if today were this date (YYYY-MM-DD; tests, catch-up)")
    def kyc_expire_documents(today):
        """Warn 30 days before an approved document expires (once); expire what has expired
        (document state, `document: expired` label → level, event, audit, mail). Idempotent."""
        from datetime import date as _date

        from barong.services.infra import unit_of_work
        from barong.services.verification import kyc_expiry

        result = kyc_expiry.run(_date.fromisoformat(today) if today else None)
        if not today:
            kyc_expiry.mark_ran()  # the daily job beside gunicorn then skips today
        unit_of_work.commit()
        click.echo(str(result))

    @kyc.command("watch")
    @click.option("--interval", default=600, show_default=True, help="seconds between checks")
    def kyc_watch(interval):
        """Run `expire-documents` once a day (UTC), forever: what `make run` starts beside gunicorn.
        The last run's day is kept in the kv store, so a restart does not run it again."""
        import logging
        import time

        from barong.extensions import db
        from barong.services.verification import kyc_expiry

        log = logging.getLogger("barong.kyc.watch")
        while True:
            try:
                result = kyc_expiry.run_daily()
                if result is not None:
                    click.echo(f"kyc expire-documents: {result}")
            except Exception:  # a database outage: try again at the next check
                log.exception("kyc expire-documents failed")
                db.session.rollback()
            finally:
                db.session.remove()
            time.sleep(max(1, int(interval)))

    app.cli.add_command(kyc)
