"""Jobs of the tenants module: the invitation e-mail."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from kyodo.jobs.actors import JobContext, actor
from kyodo.models import Invitation, Organization
from kyodo.notifications import send_mail

INVITATION_EMAIL = "tenants.invitation_email"


@actor(INVITATION_EMAIL)
async def invitation_email(job: JobContext, *, invitation_id: str) -> None:
    """Tell the invited address where to sign in (sent only when SMTP is configured; the
    invitation works without it, claimed at the next sign-in with that verified address)."""
    if not job.settings.smtp_url:
        return
    found = (
        await job.session.execute(
            select(Invitation, Organization)
            .join(Organization, Organization.id == Invitation.tenant_id)
            .where(Invitation.id == uuid.UUID(invitation_id))
        )
    ).first()
    if found is None:
        return
    invitation, org = found
    if invitation.claimed_at or invitation.revoked_at:
        return
    subject = f"Kyodo: {org.name_ja}への招待 / Invitation to {org.name_en}"
    body = (
        f"{org.name_ja}から Kyodo への招待が届いています。\n"
        f"このメールアドレスで次の URL からサインインしてください。\n\n"
        f"You have been invited to {org.name_en} on Kyodo.\n"
        f"Sign in with this e-mail address at:\n\n"
        f"{job.settings.base_url}/auth/login?next=/o/{org.slug}/\n\n-- \nKyodo 共同\n"
    )
    await asyncio.to_thread(send_mail, job.settings, invitation.email, subject, body)
