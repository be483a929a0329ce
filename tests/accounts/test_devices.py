"""Guessing a resident's password stays slow, but a stranger cannot lock the owner out:
the owner's own phone (device cookie) is counted apart from every unknown device."""

from app.accounts import devices
from tests.conftest import zh
from tests.fixtures.factories import PASSWORD, make_compound, make_resident

OWNER = "13800000001"
SECRET = "test-secret-key"


def device(web, address):
    """A phone or computer at an internet address of its own."""
    client = web.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def try_password(client, password, phone=OWNER):
    return client.post("/login", data={"phone": phone, "password": password})


def own_phone(web):
    """The owner's phone after one correct sign-in (it now holds a device cookie)."""
    phone = device(web, "10.1.0.1")
    response = try_password(phone, PASSWORD)
    assert response.status_code == 302
    assert any(c.startswith(devices.COOKIE + "=") for c in response.headers.getlist("Set-Cookie"))
    phone.post("/logout", data={})
    return phone


def guess_from_many_addresses(web, n=12, phone=OWNER):
    return [
        try_password(device(web, f"10.9.0.{i}"), f"guess-{i}", phone=phone).status_code
        for i in range(n)
    ]


def test_a_stranger_cannot_lock_the_owners_phone_out(web, app):
    make_resident(make_compound(), OWNER)
    phone = own_phone(web)
    statuses = guess_from_many_addresses(web)
    assert statuses[:9] == [422] * 9 and statuses[-1] == 429  # the number is locked ...
    assert try_password(device(web, "10.2.0.1"), PASSWORD).status_code == 429  # ... elsewhere
    signed_in = try_password(phone, PASSWORD)  # but not on the owner's own phone
    assert signed_in.status_code == 302
    assert phone.get("/home").status_code == 200


def test_guessing_from_unknown_devices_stays_limited(web, app):
    make_resident(make_compound(), OWNER)
    own_phone(web)
    statuses = guess_from_many_addresses(web, 15)
    assert statuses.count(422) <= 10 and statuses[-5:] == [429] * 5
    page = try_password(device(web, "10.3.0.1"), "one-more-guess")
    assert page.status_code == 429 and zh("Too many tries") in page.get_data(as_text=True)


def test_a_device_cookie_for_another_number_does_not_help_a_guesser(web, app):
    compound = make_compound()
    make_resident(compound, OWNER)
    make_resident(compound, "13800000002")
    attacker = device(web, "10.4.0.1")
    assert try_password(attacker, PASSWORD, phone="13800000002").status_code == 302
    attacker.post("/logout", data={})
    statuses = [try_password(attacker, f"guess-{i}").status_code for i in range(12)]
    assert statuses[-1] == 429


def test_a_forged_or_copied_for_another_secret_cookie_is_an_unknown_device(web, app):
    make_resident(make_compound(), OWNER)
    forged = devices.issue(None, OWNER, "some-other-secret")
    guessed = device(web, "10.5.0.1")
    guessed.set_cookie(devices.COOKIE, forged)
    guess_from_many_addresses(web)
    assert try_password(guessed, PASSWORD).status_code == 429
    tampered = device(web, "10.5.0.2")
    tampered.set_cookie(devices.COOKIE, devices.issue(None, OWNER, SECRET)[:-2] + "xx")
    assert try_password(tampered, PASSWORD).status_code == 429


def test_the_owners_phone_is_limited_too_on_its_own_count(web, app):
    make_resident(make_compound(), OWNER)
    phone = own_phone(web)
    web.config["TRUSTED_DEVICE_RATE_LIMIT"] = "5 per minute"
    statuses = [try_password(phone, f"typo-{i}").status_code for i in range(7)]
    assert statuses[:4] == [422] * 4 and statuses[-1] == 429
    # Its lock is its own: the owner's other phone and unknown devices still get through.
    assert try_password(device(web, "10.6.0.1"), PASSWORD).status_code == 302


def test_device_cookie_is_signed_small_and_holds_no_phone_number(web, app):
    make_resident(make_compound(), OWNER)
    response = try_password(device(web, "10.7.0.1"), PASSWORD)
    header = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith(devices.COOKIE + "=")
    )
    assert OWNER not in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert len(header) < 400
    value = header.split(";")[0].split("=", 1)[1]
    assert devices.trusted_key(value, OWNER, SECRET)
    assert devices.trusted_key(value, "13800000002", SECRET) is None


def test_a_family_phone_keeps_a_few_numbers():
    cookie = None
    numbers = [f"1380000{i:04d}" for i in range(devices.MAX_NUMBERS + 2)]
    for number in numbers:
        cookie = devices.issue(cookie, number, SECRET)
    assert all(devices.trusted_key(cookie, n, SECRET) for n in numbers[-devices.MAX_NUMBERS :])
    assert devices.trusted_key(cookie, numbers[0], SECRET) is None
    keys = {devices.trusted_key(cookie, n, SECRET).split(":")[0] for n in numbers[2:]}
    assert len(keys) == 1  # one device, one nonce
    for odd in [None, "", "x" * 2000, "not.signed.value"]:
        assert devices.read(odd, SECRET) is None
