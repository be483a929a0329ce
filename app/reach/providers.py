"""SMS providers behind one small interface, chosen by SMS_PROVIDER.

Chinese template-SMS APIs (Aliyun, Tencent Cloud, and the carriers' own) share one
shape: a signature, a template code registered in advance, the template's parameters,
the phone number, and an id of the caller's own that comes back in delivery reports.
`TemplateHttpProvider` speaks that shape as JSON over HTTP; a provider whose API signs
requests differently is one more class with the same `send`.

`send` returns the gateway's message id, or raises TemporaryFailure (try again later:
the gateway is down, slow or throttling) or PermanentFailure (never: an empty number, a
template refused). The caller's id is the message's idempotency key: a message retried
after a worker died carries the same key, and the gateway drops what it already took.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger("linli.sms")


@dataclass(frozen=True)
class Sms:
    phone: str
    sign: str
    template: str  # the template code registered with the provider
    params: dict[str, str]  # the template's parameters, already worded
    text: str  # the whole message as the recipient reads it
    key: str  # idempotency key (the provider's "out id")


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Trying again will not help."""


class LogProvider:
    """Development: each message goes to the log, nothing leaves the machine."""

    name = "log"

    def send(self, sms: Sms) -> str:
        log.info("SMS to %s [%s] %s", sms.phone, sms.template, sms.text)
        return f"log:{sms.key}"


class TemplateHttpProvider:
    """POST {sign, template, params, phone, out_id} as JSON to SMS_GATEWAY_URL with the
    API key as a bearer token; a 2xx answer {"code": "OK", "message_id": …} is taken."""

    name = "http"

    def __init__(self, url: str, api_key: str, timeout: float = 5.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("SMS_GATEWAY_URL must be an http(s) address")
        self.parts, self.api_key, self.timeout = parts, api_key, timeout
        self._local = threading.local()  # one kept-alive connection per thread

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = (
                http.client.HTTPSConnection
                if self.parts.scheme == "https"
                else http.client.HTTPConnection
            )
            conn = cls(self.parts.netloc, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def send(self, sms: Sms) -> str:
        body = json.dumps(
            {
                "sign": sms.sign,
                "template": sms.template,
                "params": sms.params,
                "phone": sms.phone,
                "out_id": sms.key,
                "text": sms.text,
            },
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {self.api_key}",
        }
        try:
            conn = self._connection()
            conn.request("POST", self.parts.path or "/", body=body, headers=headers)
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            raise TemporaryFailure(f"gateway unreachable: {exc.__class__.__name__}") from exc
        if status == 429 or status >= 500:
            raise TemporaryFailure(f"gateway answered {status}")
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        if status >= 400 or answer.get("code") != "OK":
            code = str(answer.get("code") or status)
            if code in ("THROTTLED", "BUSY"):
                raise TemporaryFailure(f"gateway busy: {code}")
            raise PermanentFailure(f"gateway refused: {code}")
        return str(answer.get("message_id") or sms.key)[:80]


def provider_for(config) -> LogProvider | TemplateHttpProvider:
    """The provider SMS_PROVIDER names."""
    name = config.get("SMS_PROVIDER", "log")
    if name == "log":
        return LogProvider()
    if name == "http":
        return TemplateHttpProvider(
            config["SMS_GATEWAY_URL"], config["SMS_API_KEY"], config["SMS_TIMEOUT_SECONDS"]
        )
    raise ValueError(f"unknown SMS_PROVIDER {name!r} (log or http)")
