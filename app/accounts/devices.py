"""Device cookies, so that nobody can lock a resident out by guessing their password.

After a correct password, the phone or browser gets a signed cookie naming (by a keyed
hash) the mobile numbers that signed in on it. Sign-in attempts for one of those numbers
from that device are counted for that device alone; every other attempt for a number is
counted together with all unknown devices, and only those get locked. A stranger
guessing from anywhere else is slowed down as before, but the owner's own phone still
signs in (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "device"
MAX_AGE = 365 * 24 * 60 * 60  # seconds; renewed at every sign-in on the device
MAX_NUMBERS = 5  # a family phone may sign in as a few people


@dataclass(frozen=True)
class Device:
    nonce: str
    numbers: tuple[str, ...]  # keyed hashes of the mobile numbers that signed in here


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="linli-device")


def number_tag(secret: str, phone: str) -> str:
    """A keyed hash of a mobile number: the cookie never carries the number itself."""
    mac = hmac.new(secret.encode(), f"linli-device-phone:{phone}".encode(), hashlib.sha256)
    return mac.hexdigest()[:20]


def read(cookie: str | None, secret: str) -> Device | None:
    """The device a cookie names, or None if it is missing, forged, odd or too old."""
    if not cookie or len(cookie) > 1000:
        return None
    try:
        data = _serializer(secret).loads(cookie, max_age=MAX_AGE)
    except BadSignature:  # includes an expired signature
        return None
    if not isinstance(data, dict):
        return None
    nonce, numbers = data.get("n"), data.get("p")
    if (
        not isinstance(nonce, str)
        or not isinstance(numbers, list)
        or not all(isinstance(n, str) for n in numbers)
    ):
        return None
    return Device(nonce, tuple(numbers[:MAX_NUMBERS]))


def trusted_key(cookie: str | None, phone: str | None, secret: str) -> str | None:
    """The rate-limit key of this device for this number, if the number signed in here
    before; None for an unknown device (or an unreadable number)."""
    device = read(cookie, secret)
    if device is None or not phone:
        return None
    tag = number_tag(secret, phone)
    return f"{device.nonce}:{tag}" if tag in device.numbers else None


def issue(cookie: str | None, phone: str, secret: str) -> str:
    """The cookie after a correct password for phone on this device (renewed, this number
    first, the oldest numbers dropped beyond MAX_NUMBERS)."""
    device = read(cookie, secret)
    nonce = device.nonce if device else secrets.token_hex(16)
    tag = number_tag(secret, phone)
    others = [n for n in (device.numbers if device else ()) if n != tag]
    return _serializer(secret).dumps({"n": nonce, "p": [tag, *others][:MAX_NUMBERS]})
