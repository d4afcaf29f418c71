"""Notifications: an in-app list per person, and e-mail over SMTP when KYODO_SMTP_URL is set.

Both are delivered by jobs. `notify` only queues a job in the caller's transaction, so a
notification appears once that transaction commits and never for a change that rolled back.
A person sees their notifications from every organization; nobody sees anyone else's.
"""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.db import Database, Scope, utcnow
from kyodo.jobs import JobContext, actor, enqueue
from kyodo.models import Notification, Organization, Person
from kyodo.settings import Settings

CREATE = "kyodo.notifications.create"
EMAIL = "kyodo.notifications.email"
LIST_LIMIT = 100


def notify(
    session: AsyncSession,
    person_id: uuid.UUID,
    kind: str,
    title_ja: str,
    title_en: str,
    link: str = "",
) -> None:
    """Tell a person about something in the organization of `session`'s scope.

    `link` is a path inside Kyodo (e.g. /o/131016/procurement/needs/…)."""
    if session.info["scope"].tenant_id is None:
        raise ValueError("notify() must run inside the scope of the organization concerned")
    if link and not (link.startswith("/") and not link.startswith("//")):
        raise ValueError("a notification links to a path inside Kyodo")
    enqueue(
        session,
        CREATE,
        person_id=person_id,
        kind=kind[:60],
        title_ja=title_ja[:300],
        title_en=title_en[:300],
        link=link[:500],
        at=utcnow().isoformat(),  # when it happened, not when the job got to it
    )


@actor(CREATE)
async def create_notification(
    job: JobContext,
    *,
    person_id: str,
    kind: str,
    title_ja: str,
    title_en: str,
    link: str,
    at: str,
) -> None:
    notification = Notification(
        person_id=uuid.UUID(person_id),
        kind=kind,
        title_ja=title_ja,
        title_en=title_en,
        link=link,
        created_at=datetime.fromisoformat(at),
    )
    job.session.add(notification)
    await job.session.flush()
    if job.settings.smtp_url:
        enqueue(job.session, EMAIL, notification_id=notification.id)


@actor(EMAIL)
async def email_notification(job: JobContext, *, notification_id: str) -> None:
    found = (
        await job.session.execute(
            select(Notification, Person)
            .join(Person, Person.id == Notification.person_id)
            .where(Notification.id == uuid.UUID(notification_id))
        )
    ).first()
    if found is None:
        return
    notification, person = found
    # Only to an address the identity provider verified; never twice for one notification.
    if notification.emailed_at or not (person.email and person.email_verified):
        return
    title = notification.title_en if person.locale == "en" else notification.title_ja
    link = f"{job.settings.base_url}{notification.link}" if notification.link else ""
    body = f"{title}\n\n{link}\n\n-- \nKyodo 共同\n" if link else f"{title}\n\n-- \nKyodo 共同\n"
    await asyncio.to_thread(send_mail, job.settings, person.email, title, body)
    notification.emailed_at = utcnow()


def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    """One message over SMTP. KYODO_SMTP_URL: smtp://, smtp+starttls:// or smtps://,
    with optional user:password@ and :port."""
    assert settings.smtp_url
    url = urlsplit(settings.smtp_url)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    host = url.hostname or "localhost"
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=30)
    else:
        client = smtplib.SMTP(
            host, url.port or (587 if url.scheme == "smtp+starttls" else 25), timeout=30
        )
    with client:
        if url.scheme == "smtp+starttls":
            client.starttls()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


@dataclass(frozen=True)
class Item:
    notification: Notification
    organization: Organization

    def title(self, locale: str) -> str:
        return self.notification.title_en if locale == "en" else self.notification.title_ja


async def for_person(db: Database, scope: Scope) -> list[Item]:
    """The person's notifications across their organizations, newest first."""
    async with db.session(scope) as session:
        rows = await session.execute(
            select(Notification, Organization)
            .join(Organization, Organization.id == Notification.tenant_id)
            .where(Notification.person_id == scope.person_id)
            .order_by(Notification.created_at.desc(), Notification.id)
            .limit(LIST_LIMIT)
        )
        return [Item(n, o) for n, o in rows]


async def unread_count(db: Database, scope: Scope) -> int:
    async with db.session(scope) as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.person_id == scope.person_id, Notification.read_at.is_(None))
        )
    return count or 0


async def mark_read(db: Database, scope: Scope, notification_id: uuid.UUID) -> Item | None:
    """Mark one of the person's own notifications read; None when it is not theirs."""
    async with db.session(scope) as session:
        found = (
            await session.execute(
                select(Notification, Organization)
                .join(Organization, Organization.id == Notification.tenant_id)
                .where(
                    Notification.id == notification_id,
                    Notification.person_id == scope.person_id,
                )
            )
        ).first()
        if found is None:
            return None
        notification, organization = found
        if notification.read_at is None:
            notification.read_at = utcnow()
        return Item(notification, organization)
