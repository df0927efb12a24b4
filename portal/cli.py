"""The `portal` command: serve, migrate, load tenants, import history, seed a demo, deliver
mail and list the mail that failed.

Errors print as one clear line (no traceback) and exit non-zero. Messages for operators are
in the language of their environment (LC_ALL, LC_MESSAGES or LANG) when we ship it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from portal import import_commands, operator_commands, reactions, tenant_commands
from portal.cli_support import close_all, open_db, portal_named
from portal.core import time_text
from portal.core.db import analyze, settle
from portal.core.errors import N_, ConfigError
from portal.core.i18n import gettext as _
from portal.core.i18n import normalise, translate, use_locale
from portal.core.settings import Settings
from widgets import cli as widgets_cli


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from portal.app import create_app
    from portal.core import catalogs
    from portal.web import worker_processes

    if args.workers < 1:
        raise ConfigError(N_("--workers must be 1 or more"))

    catalogs.compile_all()
    app = create_app(settings)
    with app.state.db.session() as session:
        from portal.models import Tenant

        for tenant in session.scalars(select(Tenant).order_by(Tenant.slug)):
            print(f"  {tenant.slug:<12} http://{args.host}:{args.port}/t/{tenant.slug}/"
                  f"   or http://{tenant.slug}.localhost:{args.port}/")
    # Forwarded headers are ours to judge (TRUSTED_PROXIES): uvicorn's own trust loopback.
    options = {"host": args.host, "port": args.port, "log_level": "warning",
               "proxy_headers": False}
    if args.workers == 1:
        uvicorn.run(app, **options)
        return 0
    # Each worker builds its own app from the environment; this one only checked the
    # settings and built what they share (catalogs, static files).
    app.state.db.engine.dispose()
    worker_processes.run("portal.app:create_app", workers=args.workers, **options)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from portal.core.migrate import upgrade

    upgrade(settings.database_url)
    analyze(open_db(settings).engine)
    print(_("database is up to date"))
    return 0


def cmd_places(args: argparse.Namespace, settings: Settings) -> int:
    from portal.places import addresses, naming

    db = open_db(settings)
    if args.action == "import":
        if not args.file or not args.tenant:
            raise ConfigError(N_("places import needs a file and --tenant"))
        path = Path(args.file)
        if not path.is_file():
            raise ConfigError(N_("no such file: %(path)s"), path=str(path))
        with db.session() as session:
            summary = addresses.import_addresses(session, portal_named(session, args.tenant), path)
        settle(db.engine, addresses.TABLES)
        for line in summary.lines():
            print(line)
    else:
        with db.session() as session:
            named = naming.backfill(session, on_batch=lambda n: session.commit())
        print(_("issues given a place name: %(n)s", n=named))
    return 0


def cmd_sms(args: argparse.Namespace, settings: Settings) -> int:
    """A resident's number on a portal: deleted on request, or put on or off the block list."""
    from portal.sms import phones

    vault = phones.PhoneVault(settings)
    with open_db(settings).session() as session:
        tenant_id = portal_named(session, args.tenant).id
        if args.action == "forget":
            if not phones.forget(session, vault, tenant_id, args.number):
                raise ConfigError(N_("this portal has no texts from that number"))
            print(_("deleted: the number, its conversation and its link to the reports it "
                    "made (the reports stay, anonymous)"))
        else:
            phones.set_blocked(session, vault, tenant_id, args.number, args.action == "block")
            print(_("blocked: texts from this number are ignored") if args.action == "block"
                  else _("unblocked: this number may text again"))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from portal.data.demo import seed_demo_issues

    with open_db(settings).session() as session:
        added = seed_demo_issues(session, settings)
    analyze(open_db(settings).engine)
    print(_("demo issues added: %(count)s", count=added))
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """`portal users add|remove EMAIL --body SLUG|--tenant SLUG --role ROLE`, `users list`."""
    from portal.models import Body, Role, Tenant, User
    from portal.staff import accounts

    with open_db(settings).session() as session:
        if args.action == "list":
            for user in session.scalars(select(User).order_by(User.email)):
                roles = []
                for role in session.scalars(select(Role).where(Role.user_id == user.id)):
                    place = (session.get(Body, role.body_id) if role.body_id
                             else session.get(Tenant, role.tenant_id))
                    kind = "body" if role.body_id else "portal"
                    roles.append(f"{role.role}@{kind}:{place.slug if place else '?'}")
                print(f"{user.email:<32} {', '.join(roles) or '-'}")
            return 0
        if not args.email or not args.role or bool(args.body) == bool(args.tenant):
            raise ConfigError(f"users {args.action} needs EMAIL, --role and one of --body or "
                              "--tenant")
        body = tenant = None
        if args.body:
            body = session.scalars(select(Body).where(Body.slug == args.body)).first()
            if body is None:
                raise ConfigError(f"no body called {args.body!r}")
        else:
            tenant = session.scalars(select(Tenant).where(Tenant.slug == args.tenant)).first()
            if tenant is None:
                raise ConfigError(f"no portal called {args.tenant!r}")
        where = f"body {body.slug}" if body else f"portal {tenant.slug}"
        if args.action == "add":
            try:
                accounts.add_role(session, args.email, args.role, tenant=tenant, body=body)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            print(f"{accounts.normalise_email(args.email)} is now {args.role} of {where}")
        else:
            removed = accounts.remove_role(session, args.email, args.role, tenant=tenant,
                                           body=body)
            print(f"removed {removed} role(s) from {accounts.normalise_email(args.email)}")
    return 0


def cmd_open311(args: argparse.Namespace, settings: Settings) -> int:
    """`portal open311 keys create SLUG --application NAME [--body SLUG]`, `keys list SLUG`,
    `keys revoke SLUG KEY_ID`: a portal's Open311 API keys (the key is printed once)."""
    from portal.core.errors import ValidationError
    from portal.models import Body
    from portal.open311 import api_keys

    with open_db(settings).session() as session:
        portal = portal_named(session, args.slug)
        if args.action == "list":
            for row in api_keys.list_keys(session, portal):
                body = session.get(Body, row.body_id) if row.body_id else None
                # Times in the portal's own zone, named: the operator may be anywhere.
                state = (_("revoked %(when)s", when=time_text.written(
                    row.revoked_at, portal.time_zone)) if row.revoked_at else _("live"))
                print(f"{row.id:>5}  o311_{row.prefix}_…  {state:<34} "
                      f"{body.slug if body else '-':<16} {row.application}")
            return 0
        if args.action == "revoke":
            if args.key_id is None or api_keys.revoke(session, portal, args.key_id) is None:
                raise ConfigError(N_("portal %(slug)s has no key %(id)s"), slug=portal.slug,
                                  id=args.key_id)
            print(_("key %(id)s revoked", id=args.key_id))
            return 0
        body = None
        if args.body:
            body = session.scalars(select(Body).where(Body.slug == args.body)).first()
            if body is None:
                raise ConfigError(N_("no body called %(slug)r"), slug=args.body)
        try:
            row, key = api_keys.create(session, portal, args.application or "", body)
        except ValidationError as exc:
            raise ConfigError(N_("--application: %(problem)s"),
                              problem=translate(next(iter(exc.errors.values())))) from None
        session.flush()
        print(_("key %(id)s for %(application)s (shown once, keep it):", id=row.id,
                application=row.application))
        print(key)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Deliver the outbox over SMTP (and write yesterday's digests once a day)."""
    from portal import worker

    settings.require_secret()  # it signs the unsubscribe links in every mail
    db = open_db(settings)
    if args.once:
        report = worker.run_once(db, settings, {})
        mail, o311 = report.mail, report.open311
        print(_("sent %(sent)s, failed %(failed)s, suppressed %(suppressed)s",
                sent=mail.sent, failed=mail.failed, suppressed=mail.suppressed))
        if report.poll is not None and report.poll.bodies:
            print(_("Open311 bodies: sent %(sent)s, failed %(failed)s, changes applied "
                    "%(applied)s", sent=o311.sent, failed=o311.failed,
                    applied=report.poll.applied))
        return 0
    print(_("delivering mail to %(host)s:%(port)s; stop with Ctrl-C",
            host=settings.smtp_host, port=settings.smtp_port))
    try:
        worker.run_forever(db, settings, interval=args.interval)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    """`portal outbox failed`: unsent mail that met an error, and why, for the operator."""
    from portal.mail import outbox
    from portal.models import Tenant

    with open_db(settings).session() as session:
        rows = outbox.failed(session, limit=args.limit)
        if rows:
            number, kind, recipient = _("id"), _("kind"), _("recipient")
            tries, state, error = _("tries"), _("state"), _("last error")
            retry = _("next try")
            print(f"{number:>7} {kind:<16} {recipient:<32} {tries:>5} {state:<9} "
                  f"{retry:<28} {error}")
        zones = dict(session.execute(select(Tenant.id, Tenant.time_zone)).all())
        for row in rows:
            stopped = row.attempts >= outbox.MAX_ATTEMPTS
            state = _("stopped") if stopped else _("retrying")
            # The next try in the zone of the portal the mail is about, else UTC (named).
            retry = "-" if stopped else time_text.written(row.next_attempt_at,
                                                          zones.get(row.tenant_id, "UTC"))
            error = " ".join(row.last_error.split()) or "-"
            print(f"{row.id:>7} {row.kind:<16} {row.recipient:<32} "
                  f"{row.attempts:>2}/{outbox.MAX_ATTEMPTS} {state:<9} {retry:<28} {error}")
    print(_("unsent messages with errors: %(count)s", count=len(rows)))
    return 0


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Write the daily digests for one day, each portal's own day in its time zone (default:
    yesterday there). Safe to run again."""
    from datetime import date

    from portal.engagement import digests
    from portal.models import utcnow

    try:
        day = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        raise ConfigError(N_("--date must look like 2025-06-30")) from None
    with open_db(settings).session() as session:
        for zone, yesterday in sorted(digests.digest_days(session, utcnow()).items()):
            count = digests.compose_digests(session, day or yesterday, zone)
            print(_("digests written for %(day)s in %(zone)s: %(count)s",
                    day=(day or yesterday).isoformat(), zone=zone, count=count))
    return 0


def cmd_office_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Write the weekly district digests to politicians' offices for one week (Monday to
    Monday, UTC; default last week). Safe to run again."""
    from datetime import date

    from portal.models import utcnow
    from portal.staff import district_digest

    try:
        day = date.fromisoformat(args.week) if args.week else (
            utcnow().date() - timedelta(days=7))
    except ValueError:
        raise ConfigError(N_("--week must look like 2025-06-30")) from None
    week = district_digest.week_of(day)
    with open_db(settings).session() as session:
        count = district_digest.compose_digests(session, week)
    print(_("district digests written for the week of %(week)s: %(count)s",
            week=week.isoformat(), count=count))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="portal", description="Reportal command line")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes (rate limits and caches are shared through "
                            "the database, or Redis with REDIS_URL)")
    serve.set_defaults(func=cmd_serve)
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db_upgrade)
    tenant_commands.add_parsers(sub)  # tenants …, bodies import
    operator_commands.add_parsers(sub)  # operators grant|revoke|list
    import_commands.add_parser(sub)  # import-issues
    places = sub.add_parser("places", help="address points for the place search; name old issues")
    places.add_argument("action", choices=["import", "backfill"])
    places.add_argument("file", nargs="?", help="an OpenAddresses CSV (LON,LAT,NUMBER,STREET…)")
    places.add_argument("--tenant", help="the portal whose gazetteer gets the addresses")
    places.set_defaults(func=cmd_places)
    sms = sub.add_parser("sms", help="a resident's phone number: delete it on request, or "
                                     "block or unblock it")
    sms.add_argument("action", choices=["forget", "block", "unblock"])
    sms.add_argument("number", help="the phone number, like +12035550100")
    sms.add_argument("--tenant", required=True, help="the portal it texted")
    sms.set_defaults(func=cmd_sms)
    demo = sub.add_parser("demo", help="seed demo issues on every portal")
    demo.set_defaults(func=cmd_demo)
    widgets_cli.add_parser(sub)
    users = sub.add_parser("users", help="give people roles: staff of a body, admin or "
                                         "moderator of a portal")
    users.add_argument("action", choices=["add", "remove", "list"])
    users.add_argument("email", nargs="?")
    users.add_argument("--role", choices=["staff", "admin", "moderator", "office"])
    place = users.add_mutually_exclusive_group()
    place.add_argument("--body", help="body slug (for the staff role)")
    place.add_argument("--tenant", help="portal slug (for the admin, moderator and office roles)")
    users.set_defaults(func=cmd_users)
    o311 = sub.add_parser("open311", help="Open311 API keys of a portal")
    o311.add_argument("what", choices=["keys"])
    o311.add_argument("action", choices=["create", "list", "revoke"])
    o311.add_argument("slug", help="portal slug")
    o311.add_argument("key_id", nargs="?", type=int, help="the key to revoke")
    o311.add_argument("--application", help="who will use the key (for create)")
    o311.add_argument("--body", help="body slug whose status changes the key may send")
    o311.set_defaults(func=cmd_open311)
    worker = sub.add_parser("worker", help="deliver the outbox over SMTP, with retries")
    worker.add_argument("--once", action="store_true", help="send what is due, then stop")
    worker.add_argument("--interval", type=float, default=5.0, help="seconds between runs")
    worker.set_defaults(func=cmd_worker)
    outbox_cmd = sub.add_parser("outbox", help="mail the worker could not send")
    outbox_cmd.add_argument("action", choices=["failed"],
                            help="list unsent messages that met an error, and the error")
    outbox_cmd.add_argument("--limit", type=int, default=200, help="list at most this many")
    outbox_cmd.set_defaults(func=cmd_outbox)
    digest = sub.add_parser("digest", help="write the daily digest emails for watchers")
    digest.add_argument("--date", help="the day to summarise, each portal's own (default: "
                                       "yesterday in the portal's time zone)")
    digest.set_defaults(func=cmd_digest)
    office = sub.add_parser("office-digest", help="write the weekly district digests for "
                                                  "politicians' offices")
    office.add_argument("--week", help="a day of the week to summarise (UTC), default last week")
    office.set_defaults(func=cmd_office_digest)
    return p


def operator_locale(environ: dict[str, str]) -> str:
    """The operator's language from the usual variables ('fr_FR.UTF-8' -> 'fr')."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").split(".")[0]
        if value and (found := normalise(value)):
            return found
    return "en"


def main(argv: list[str] | None = None) -> int:
    import os

    # The operator's language holds for this call only, so a caller running main() more than
    # once in one process (the tests do) does not carry one run's language into the next.
    with use_locale(operator_locale(dict(os.environ))):
        reactions.install()
        args = parser().parse_args(argv)
        try:
            return args.func(args, Settings.from_env())
        except ConfigError as exc:
            text = translate(exc.message)
            print(f"portal: {exc.where}: {text}" if exc.where else f"portal: {text}",
                  file=sys.stderr)
            return 1
        except Exception as exc:  # noqa: BLE001 - one clear line, not a traceback
            print(f"portal: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        finally:
            close_all()


if __name__ == "__main__":
    sys.exit(main())
