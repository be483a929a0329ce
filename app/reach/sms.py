"""SMS: consent per purpose, the outbox, and its delivery by a worker.

An SMS is only ever written for a person who agreed to that purpose (DESIGN §10, PIPL
arts. 13–15), into the outbox in the event's transaction; `deliver_due` (a job, run by
`flask jobs worker`, never in a request) claims due rows, checks consent, quiet hours
and the daily cap again, words the message in the recipient's language and hands it to
the provider. Every outcome is recorded on the row: sent (with the gateway's id),
delivered (its report), retried later with backoff, held until the morning, cancelled
(consent withdrawn) or failed.

Exactly one message per event and person: the row's key is unique, and the key goes
to the gateway as its "out id", so the one message a killed worker may have handed over
without recording it is recognised when it is handed over again.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from app.accounts.models import Consent, User
from app.core import jobs
from app.core.db import insert_new
from app.core.timeutil import LOCAL_TZ, utcnow
from app.extensions import db
from app.reach import providers, rules, texts
from app.reach.models import SmsMessage, SmsStatus

log = logging.getLogger("linli.sms")

CONSENT_VERSION = "2026-12"
LEASE = timedelta(minutes=5)  # a claim older than this belonged to a worker that died
BATCH = 200
DELIVER = "app.reach.sms.deliver_due"


def _purpose_key(purpose: str) -> str:
    return f"sms:{purpose}"


# --- consent --------------------------------------------------------------------------------


def choices(user: User) -> set[str]:
    """The purposes this person agreed to receive SMS for."""
    rows = db.session.scalars(
        sa.select(Consent.purpose).where(
            Consent.user_id == user.id,
            Consent.purpose.in_([_purpose_key(p) for p in texts.PURPOSES]),
            Consent.withdrawn_at.is_(None),
        )
    )
    return {purpose.removeprefix("sms:") for purpose in rows}


def set_choices(user: User, wanted: set[str], now: datetime | None = None) -> None:
    """Agree to the wanted purposes and withdraw the others; each agreement is recorded
    with its time and version, each withdrawal with its time. Pending SMS of a withdrawn
    purpose are cancelled."""
    now = now or utcnow()
    wanted = wanted & set(texts.PURPOSES)
    have = choices(user)
    for purpose in sorted(wanted - have):
        db.session.add(
            Consent(
                user_id=user.id,
                purpose=_purpose_key(purpose),
                version=CONSENT_VERSION,
                granted_at=now,
            )
        )
    gone = have - wanted
    if gone:
        _withdraw(sa.select(sa.literal(user.id)), gone, now)
    db.session.commit()


def _withdraw(user_ids, purposes, now: datetime) -> None:
    keys = [_purpose_key(p) for p in purposes]
    db.session.execute(
        sa.update(Consent)
        .where(
            Consent.user_id.in_(user_ids),
            Consent.purpose.in_(keys),
            Consent.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(SmsMessage)
        .where(
            SmsMessage.user_id.in_(user_ids),
            SmsMessage.purpose.in_(list(purposes)),
            SmsMessage.status == SmsStatus.PENDING,
        )
        .values(status=SmsStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )


def stop_all(phone: str, now: datetime | None = None) -> int:
    """A reply of TD from this number: every SMS consent of its accounts is withdrawn."""
    now = now or utcnow()
    accounts = [u for u in db.session.scalars(sa.select(User.id).where(User.phone == phone))]
    if accounts:
        _withdraw(accounts, set(texts.PURPOSES), now)
        db.session.commit()
    return len(accounts)


# --- the outbox -----------------------------------------------------------------------------


def _quiet():
    config = current_app.config
    return rules.parse_hhmm(config["SMS_QUIET_START"]), rules.parse_hhmm(config["SMS_QUIET_END"])


def queue(messages, now: datetime) -> int:
    """Write an outbox row for each message whose person agreed to its purpose (one query
    for the consents, one insert); the delivery job is asked for after the commit."""
    wanted = [(m, texts.purpose_of(m.kind)) for m in messages]
    wanted = [(m, purpose) for m, purpose in wanted if purpose]
    if not wanted:
        return 0
    users = sorted({m.user_id for m, _ in wanted})
    agreed = {
        tuple(row)
        for row in db.session.execute(
            sa.select(Consent.user_id, Consent.purpose).where(
                Consent.user_id.in_(users),
                Consent.purpose.in_({_purpose_key(p) for _, p in wanted}),
                Consent.withdrawn_at.is_(None),
            )
        )
    }
    due = rules.next_allowed(now, *_quiet())
    rows = [
        {
            "key": f"{m.key}:{m.user_id}",
            "user_id": m.user_id,
            "compound_id": m.compound_id,
            "purpose": purpose,
            "kind": m.kind,
            "params": texts.dumps(m.params),
            "status": SmsStatus.PENDING.value,
            "attempts": 0,
            "due_at": due,
            "created_at": now,
        }
        for m, purpose in wanted
        if (m.user_id, _purpose_key(purpose)) in agreed
    ]
    insert_new(SmsMessage.__table__, rows, unique=["key"])
    if rows:
        jobs.enqueue(DELIVER, delay_seconds=max(int((due - now).total_seconds()), 0))
    return len(rows)


def _claim(now: datetime, limit: int) -> str | None:
    """Take up to `limit` due messages for this worker; returns the claim token."""
    db.session.execute(  # a worker that died mid-batch: its claims go back in the queue
        sa.update(SmsMessage)
        .where(SmsMessage.status == SmsStatus.SENDING, SmsMessage.claimed_at < now - LEASE)
        .values(status=SmsStatus.PENDING, claim=None)
        .execution_options(synchronize_session=False)
    )
    due = (
        sa.select(SmsMessage.id)
        .where(SmsMessage.status == SmsStatus.PENDING, SmsMessage.due_at <= now)
        .order_by(SmsMessage.due_at, SmsMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if not ids:
        db.session.commit()
        return None
    token = secrets.token_hex(16)
    db.session.execute(
        sa.update(SmsMessage)
        .where(SmsMessage.id.in_(ids), SmsMessage.status == SmsStatus.PENDING)
        .values(
            status=SmsStatus.SENDING,
            claim=token,
            claimed_at=now,
            attempts=SmsMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token


def _sent_today(user_ids, now: datetime) -> Counter:
    local = now.astimezone(LOCAL_TZ)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = db.session.execute(
        sa.select(SmsMessage.user_id, sa.func.count())
        .where(
            SmsMessage.user_id.in_(user_ids),
            SmsMessage.status.in_([SmsStatus.SENT, SmsStatus.DELIVERED]),
            SmsMessage.sent_at >= start,
        )
        .group_by(SmsMessage.user_id)
    )
    return Counter({user_id: count for user_id, count in rows})


def _template(kind: str) -> str:
    return (current_app.config.get("SMS_TEMPLATES") or {}).get(kind, f"LINLI_{kind.upper()}")


def _word(message: SmsMessage, locale: str) -> tuple[str, dict[str, str]]:
    with force_locale(locale):
        values = json.loads(message.params or "{}")
        params = texts.formatted(values)
        return texts.sms_text(message.kind, values), params


def deliver_due(limit: int = BATCH, now: datetime | None = None) -> int:
    """Send the due messages, a batch at a time, until none is due; returns how many
    went out. Each outcome is committed as soon as it is known."""
    config = current_app.config
    provider = providers.provider_for(config)
    quiet = _quiet()
    cap, max_attempts = int(config["SMS_DAILY_CAP"]), int(config["SMS_MAX_ATTEMPTS"])
    default_locale = config["BABEL_DEFAULT_LOCALE"]
    sent = 0
    while True:
        moment = now or utcnow()
        if rules.is_quiet(moment, *quiet):
            return sent  # the tick after the quiet hours picks them up
        token = _claim(moment, limit)
        if token is None:
            return sent
        batch = db.session.execute(
            sa.select(SmsMessage, User.phone, User.locale, User.active)
            .join(User, User.id == SmsMessage.user_id)
            .where(SmsMessage.claim == token)
            .order_by(SmsMessage.id)
        ).all()
        users = {row[0].user_id for row in batch}
        agreed = {
            tuple(row)
            for row in db.session.execute(
                sa.select(Consent.user_id, Consent.purpose).where(
                    Consent.user_id.in_(users),
                    Consent.purpose.like("sms:%"),
                    Consent.withdrawn_at.is_(None),
                )
            )
        }
        today = _sent_today(users, moment)
        for message, phone, locale, active in batch:
            if (
                not active
                or not phone
                or (message.user_id, _purpose_key(message.purpose)) not in agreed
            ):
                message.status, message.claim = SmsStatus.CANCELLED, None
                db.session.commit()
                continue
            if today[message.user_id] >= cap:
                message.status, message.claim = SmsStatus.PENDING, None
                message.due_at = rules.morning_after(moment, quiet[1])
                message.attempts -= 1  # held, not tried
                db.session.commit()
                continue
            text, params = _word(message, locale or default_locale)
            try:
                ref = provider.send(
                    providers.Sms(
                        phone=phone,
                        sign=config["SMS_SIGN_NAME"],
                        template=_template(message.kind),
                        params=params,
                        text=text,
                        key=message.key,
                    )
                )
            except providers.TemporaryFailure as exc:
                message.last_error = str(exc)[:300]
                message.claim = None
                if message.attempts >= max_attempts:
                    message.status = SmsStatus.FAILED
                else:
                    message.status = SmsStatus.PENDING
                    message.due_at = moment + rules.backoff(message.attempts)
                db.session.commit()
                continue
            except providers.PermanentFailure as exc:
                message.status, message.claim = SmsStatus.FAILED, None
                message.last_error = str(exc)[:300]
                db.session.commit()
                continue
            message.status, message.claim = SmsStatus.SENT, None
            message.sent_at, message.provider_ref = utcnow(), ref
            today[message.user_id] += 1
            db.session.commit()
            sent += 1


def has_due(now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        db.session.scalar(
            sa.select(SmsMessage.id)
            .where(
                sa.or_(
                    sa.and_(SmsMessage.status == SmsStatus.PENDING, SmsMessage.due_at <= now),
                    sa.and_(
                        SmsMessage.status == SmsStatus.SENDING,
                        SmsMessage.claimed_at < now - LEASE,
                    ),
                )
            )
            .limit(1)
        )
        is not None
    )


# --- what the gateway tells us --------------------------------------------------------------


def token_ok(given: str | None) -> bool:
    expected = current_app.config.get("SMS_CALLBACK_TOKEN") or ""
    return bool(expected) and hmac.compare_digest(expected, given or "")


def record_report(key: str, delivered: bool, error: str = "", now: datetime | None = None) -> bool:
    """A delivery report for the message with this key; False if there is none."""
    message = db.session.scalar(sa.select(SmsMessage).where(SmsMessage.key == key))
    if message is None:
        return False
    if delivered:
        message.status, message.delivered_at = SmsStatus.DELIVERED, now or utcnow()
    elif message.status in (SmsStatus.SENT, SmsStatus.SENDING):
        message.status, message.last_error = SmsStatus.FAILED, (error or "undelivered")[:300]
    db.session.commit()
    return True
