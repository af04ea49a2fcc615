"""Building emails: a text part and an HTML part, a Message-ID, and for every email that is not
about the account's security an RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, EmailPolicy, Policy
from email.utils import format_datetime, make_msgid, parseaddr
from typing import TYPE_CHECKING, Any

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


class _VerbatimHeader(UnstructuredHeader):
    """Written as it is, on one line. The default folder turns a value longer than a line and
    without a space to fold at (a URL) into RFC 2047 encoded-words, which mail clients do not
    decode in List-Unsubscribe: RFC 2369 and RFC 8058 want `<https://...>` itself. The values
    are ASCII and far below RFC 5322's 998-character line limit."""

    name: str  # set by BaseHeader.__new__, which typeshed does not show

    def fold(self, *, policy: Policy[Any]) -> str:
        return f"{self.name}: {self}{policy.linesep}"


_VERBATIM = ("list-unsubscribe", "list-unsubscribe-post")

# typeshed makes the policy generic in the message class; at run time it is a plain class.
if TYPE_CHECKING:
    _EmailPolicy = EmailPolicy[EmailMessage]
else:
    _EmailPolicy = EmailPolicy
_HEADERS = HeaderRegistry()
for _name in _VERBATIM:
    # typeshed wants a BaseHeader; the registry takes the mixin and adds BaseHeader itself.
    _HEADERS.map_to_type(_name, _VerbatimHeader)  # type: ignore[arg-type]


_POLICY = _EmailPolicy(header_factory=_HEADERS)


def wire_text(message: EmailMessage, recipient: str) -> str:
    """The message as SMTP carries it, which the outbox stores and the worker sends as it is:
    CRLF line ends, headers folded at 78 characters (the unsubscribe ones verbatim), a text part
    with 8-bit characters in base64. An address with a non-ASCII local part (sign-up accepts
    them) can only travel as UTF-8 (SMTPUTF8, which the worker asks the server for), so its
    headers are written as UTF-8; every other message's are 7-bit (RFC 2047). The .eml files
    written without SMTP hold the same text."""
    return message.as_string(policy=SMTP if recipient.isascii() else SMTPUTF8)


def render(settings: Settings, email: Email) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
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
