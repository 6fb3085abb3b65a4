"""Sending one e-mail through SMTP (``smtplib``), with STARTTLS and login when configured.

The outcome says what the outbox should do next: a 4xx reply, a refused or dropped connection or
a timeout is temporary (try again later); a 5xx reply is permanent (retrying changes nothing)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage


class TemporaryMailError(Exception):
    """The server could not take the mail now (4xx, connection refused or dropped, timeout)."""


class PermanentMailError(Exception):
    """The server refused the mail for good (5xx)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    # the certificate authorities STARTTLS trusts (None: the system's); tests pass their own
    cafile: str | None = None


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, message: EmailMessage) -> None:
        c = self.config
        try:
            with smtplib.SMTP(c.host, c.port, timeout=c.timeout) as smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=c.cafile))
                if c.username:
                    smtp.login(c.username, c.password or "")
                # recipients refused while others took it: the mail is out (one address a mail)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as e:
            raise _by_code(min(code for code, _ in e.recipients.values()), "recipients") from e
        except smtplib.SMTPResponseException as e:
            raise _by_code(e.smtp_code, type(e).__name__) from e
        except (smtplib.SMTPException, OSError) as e:  # refused, dropped, timed out, TLS failed
            raise TemporaryMailError(type(e).__name__) from e


def _by_code(code: int, what: str) -> Exception:
    text = f"SMTP {code} ({what})"
    return TemporaryMailError(text) if 400 <= code < 500 else PermanentMailError(text)
