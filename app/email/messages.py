"""Building emails: a text part and an HTML part, a Message-ID, and for every email that is not
about the account's security an RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTPUTF8, Policy, default
from email.utils import format_datetime, make_msgid, parseaddr

from app.core.config import Settings


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    link: str | None = None
    link_label: str | None = None
    # Every email but security ones: the signed one-click unsubscribe URL (RFC 8058).
    unsubscribe: str | None = None


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "hiremebahamas.com"


def _html(email: Email) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in email.text.split("\n\n")
    )
    button = ""
    if email.link:
        label = html.escape(email.link_label or email.link)
        button = f'<p><a href="{html.escape(email.link, quote=True)}">{label}</a></p>'
    return (
        '<!doctype html><html><body style="font-family: sans-serif">'
        f"{paragraphs}{button}</body></html>"
    )


def policy_for(recipient: str) -> Policy[EmailMessage]:
    """7-bit-safe headers (RFC 2047) for ordinary addresses. An address with a non-ASCII local
    part (sign-up accepts them) travels only as UTF-8: SMTPUTF8, which aiosmtplib asks the
    server for when the message needs it."""
    return default if recipient.isascii() else SMTPUTF8


def render(settings: Settings, email: Email) -> EmailMessage:
    message = EmailMessage(policy=policy_for(email.to))
    message["From"] = settings.email_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=_domain(settings.email_from))
    text = email.text if not email.link else f"{email.text}\n\n{email.link}\n"
    if email.unsubscribe:
        message["List-Unsubscribe"] = f"<{email.unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text += f"\nTo stop these emails: {email.unsubscribe}\n"
    message.set_content(text)
    message.add_alternative(_html(email), subtype="html")
    return message
