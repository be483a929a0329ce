"""Household QR activation: single use, expiring, revocable, phone checked against the roster."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import AccessLog, Consent, User
from app.community import letters
from app.community.models import ActivationCode
from app.core.timeutil import utcnow
from app.extensions import db
from tests.conftest import login, zh
from tests.fixtures.factories import PASSWORD, make_compound, make_dwelling, make_person, make_user

PHONE = "13812345678"


def setup_home(phone=PHONE):
    compound = make_compound("金源新村")
    owner = make_person(compound, "李桂兰", phone=phone)
    dwelling = make_dwelling(compound, building="3", unit="2", room="502", owner=owner)
    return compound, owner, dwelling


SECRET = "test-secret-key"


def issue(dwelling, days=30):
    return letters.issue_codes([dwelling], actor=None, days=days, secret=SECRET)[1][0].token


def activate(client, token, phone=PHONE, password="new-password-1", confirm=None, consent="y"):
    """Scan the letter (GET /a/<token>), then submit the form at /activate."""
    opened = client.get(f"/a/{token}")
    if opened.status_code != 302:
        return opened
    assert opened.headers["Location"] == "/activate"
    data = {"phone": phone, "password": password, "confirm": confirm or password}
    if consent:
        data["consent"] = consent
    return client.post("/activate", data=data)


def test_token_is_long_random_and_only_its_hash_is_stored(app):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    stored = db.session.scalars(sa.select(ActivationCode.token_hash)).all()
    assert stored == [letters.hash_token(token)]
    assert token not in stored


def test_activation_page_shows_the_home_and_hides_the_token(client):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    opened = client.get(f"/a/{token}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/activate"
    page = client.get("/activate")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "金源新村" in text and "502" in text
    assert token not in text  # not in the footer's language/large-text links either
    assert page.headers["Cache-Control"] == "no-store"


def test_activate_without_a_letter_explains(client):
    page = client.get("/activate")
    assert page.status_code == 400
    assert zh("Open the link on your letter again (scan its QR code).") in page.get_data(
        as_text=True
    )


def test_activation_creates_account_links_person_and_signs_in(client):
    compound, owner, dwelling = setup_home()
    second = make_dwelling(compound, building="4", room="101", owner=owner)
    response = activate(client, issue(dwelling))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/home")
    user = db.session.scalar(sa.select(User).where(User.phone == PHONE))
    assert user.check_password("new-password-1")
    assert owner.user_id == user.id
    home = client.get("/home").get_data(as_text=True)
    assert "502" in home and "101" in home  # one owner, both homes
    assert client.get(f"/dwellings/{second.id}").status_code == 200
    consent = db.session.scalar(sa.select(Consent).where(Consent.user_id == user.id))
    assert consent.purpose == "privacy_notice"


def test_code_is_single_use(client):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    assert activate(client, token).status_code == 302
    client.post("/logout", data={})
    again = client.get(f"/a/{token}")
    assert again.status_code == 410
    assert activate(client, token).status_code == 410
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_double_tap_activates_once(app):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    letters.activate(token, PHONE, "new-password-1", consent=True, max_attempts=5)
    with pytest.raises(letters.CodeProblem):
        letters.activate(token, PHONE, "new-password-1", consent=True, max_attempts=5)
    assert db.session.scalar(sa.select(sa.func.count(Consent.id))) == 1


def test_unknown_token_gets_clear_message(client):
    page = client.get("/a/not-a-real-code")
    assert page.status_code == 410
    assert zh(
        "This code is not valid. Check that you scanned the whole QR code, "
        "or ask your community committee for a new letter."
    ) in page.get_data(as_text=True)


def test_expired_code_is_refused(client):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    code = db.session.scalar(sa.select(ActivationCode))
    code.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/a/{token}").status_code == 410
    assert activate(client, token).status_code == 410
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_reissue_kills_the_old_code(client):
    _, _, dwelling = setup_home()
    old = issue(dwelling)
    new = issue(dwelling)
    assert client.get(f"/a/{old}").status_code == 410
    assert client.get(f"/a/{new}").status_code == 302


def test_wrong_phone_counts_attempts_then_locks(client):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    for _ in range(5):
        page = activate(client, token, phone="13900000000")
        assert page.status_code == 422
    assert db.session.scalar(sa.select(ActivationCode.failed_attempts)) == 5
    locked = activate(client, token)  # even the right phone: the code is locked now
    assert locked.status_code == 410
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_consent_and_password_rules(client):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    assert activate(client, token, consent=None).status_code == 422
    assert activate(client, token, password="short").status_code == 422
    assert (
        activate(client, token, password="long-enough-1", confirm="different-1").status_code == 422
    )
    assert activate(client, token, phone="12345").status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    assert db.session.scalar(sa.select(ActivationCode.used_at)) is None


def test_no_phone_on_file_asks_for_committee(client):
    compound = make_compound()
    owner = make_person(compound, "张大爷", phone=None)
    dwelling = make_dwelling(compound, owner=owner)
    token = issue(dwelling)
    client.get(f"/a/{token}")
    page = client.get("/activate")
    assert page.status_code == 200
    assert 'name="password"' not in page.get_data(as_text=True)
    assert activate(client, token).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_committee_verifies_phone_in_person_then_code_works(client, sign_in):
    from app.accounts.models import Role

    compound = make_compound()
    owner = make_person(compound, "张大爷", phone=None)
    dwelling = make_dwelling(compound, owner=owner)
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    sign_in("13900000001")
    url = f"/staff/dwellings/{dwelling.id}/people/{owner.id}/verify"
    assert client.post(url, data={"phone": "139 1111 2222"}).status_code == 302
    assert owner.phone == "13911112222"
    assert db.session.scalar(
        sa.select(AccessLog.action).where(AccessLog.action == "phone_verified_in_person")
    )
    client.post("/logout", data={})
    assert activate(client, issue(dwelling), phone="13911112222").status_code == 302


def test_staff_account_must_give_its_password_to_add_a_home(client):
    from app.accounts.models import Role

    compound, owner, dwelling = setup_home()
    staff = make_user(PHONE, password=PASSWORD, grants=[(Role.COMMITTEE, compound)])
    token = issue(dwelling)
    assert activate(client, token, password="someone-elses").status_code == 422
    assert owner.user_id is None
    assert activate(client, token, password=PASSWORD).status_code == 302
    assert owner.user_id == staff.id
    assert staff.check_password(PASSWORD)


def test_a_household_letter_never_resets_a_password(client):
    """A tenant holding the letter who knows the owner's phone cannot take the account."""
    compound, owner, dwelling = setup_home()
    assert activate(client, issue(dwelling), password="owners-password").status_code == 302
    client.post("/logout", data={})
    page = activate(client, issue(dwelling), password="attackers-pass")
    assert page.status_code == 422
    assert login(client, PHONE, "owners-password").status_code == 302


def test_forgotten_password_is_reset_with_a_reset_letter(client, sign_in):
    from app.accounts.models import Role

    compound, owner, dwelling = setup_home()
    assert activate(client, issue(dwelling), password="first-password").status_code == 302
    client.post("/logout", data={})
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    sign_in("13900000001")
    letter = client.post(f"/staff/dwellings/{dwelling.id}/people/{owner.id}/reset", data={})
    assert letter.status_code == 302
    sheet = client.get(letter.headers["Location"]).get_data(as_text=True)
    token = sheet.split("/a/")[1].split("<")[0].strip()
    client.post("/logout", data={})
    assert activate(client, token, phone="13900000000").status_code == 422  # wrong person
    assert activate(client, token, password="second-password").status_code == 302
    client.post("/logout", data={})
    assert login(client, PHONE, "first-password").status_code == 422
    assert login(client, PHONE, "second-password").status_code == 302
    assert db.session.scalar(
        sa.select(AccessLog.id).where(AccessLog.action == "password_reset_by_letter")
    )


def test_reset_letters_are_not_for_staff_or_people_without_account(app):
    from app.accounts.models import Role
    from app.core.errors import DomainError

    compound, owner, dwelling = setup_home()
    committee = make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    with pytest.raises(DomainError):
        letters.issue_reset(owner, dwelling, actor=committee, days=7, secret=SECRET)
    owner.user_id = committee.id
    db.session.commit()
    with pytest.raises(DomainError):
        letters.issue_reset(owner, dwelling, actor=committee, days=7, secret=SECRET)


def test_tenant_can_activate(client):
    compound = make_compound()
    owner = make_person(compound, "房东", phone="13800000009")
    tenant = make_person(compound, "租户", phone="13700000009")
    dwelling = make_dwelling(compound, owner=owner, tenant=tenant)
    assert activate(client, issue(dwelling), phone="13700000009").status_code == 302
    assert tenant.user_id is not None and owner.user_id is None
    page = client.get(f"/dwellings/{dwelling.id}").get_data(as_text=True)
    assert zh("Tenant") in page


@pytest.mark.parametrize("has_account", [False, True])
def test_concurrent_activations_of_one_code_make_one_account(web, app, has_account):
    """Ten phones submitting the same letter at once: the code is spent once, the rest
    see a message (with or without an existing account for the phone)."""
    from concurrent.futures import ThreadPoolExecutor

    _, _, dwelling = setup_home()
    if has_account:
        make_user(PHONE, password=PASSWORD)
    token = issue(dwelling)
    password = PASSWORD if has_account else "new-password-1"

    def attempt(_):
        client = web.test_client()
        return activate(client, token, password=password).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(10)))
    assert statuses.count(302) == 1, statuses
    assert set(statuses) <= {302, 410}
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Consent.id))) == 1


def test_contact_deletion_erases_the_phone_everywhere(app):
    from app.accounts.models import Role
    from app.community.people import delete_contact

    compound, owner, dwelling = setup_home()
    user = make_user(PHONE)
    owner.user_id = user.id
    db.session.commit()
    committee = make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    delete_contact(owner, actor=committee)
    assert owner.phone is None and PHONE not in owner.owner_key and owner.user_id is None
    db.session.refresh(user)
    assert user.phone != PHONE and not user.active
    assert dwelling.members  # the home keeps its owner record


def test_in_person_phone_is_only_for_people_without_one(app):
    from app.accounts.models import Role
    from app.community.people import set_phone_in_person
    from app.core.errors import DomainError

    compound, owner, dwelling = setup_home()
    committee = make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    with pytest.raises(DomainError):
        set_phone_in_person(owner, "13911112222", actor=committee)  # already has one
    nobody = make_person(compound, "无电话", phone=None)
    with pytest.raises(DomainError):
        set_phone_in_person(nobody, PHONE, actor=committee)  # someone else's number
    set_phone_in_person(nobody, "13911112222", actor=committee)
    assert nobody.phone == "13911112222"


def test_concurrent_wrong_phones_never_pass_the_lock(web, app):
    from concurrent.futures import ThreadPoolExecutor

    _, _, dwelling = setup_home()
    token = issue(dwelling)
    web.config["LOGIN_RATE_LIMIT"] = "1000 per minute"

    def attempt(n):
        client = web.test_client()
        return activate(client, token, phone=f"1390000{n:04d}").status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(attempt, range(20)))
    assert db.session.scalar(sa.select(ActivationCode.failed_attempts)) == 5


def test_concurrent_issuing_leaves_one_live_letter(web, app):
    from concurrent.futures import ThreadPoolExecutor

    from app.core.errors import DomainError

    _, _, dwelling = setup_home()
    dwelling_id, model = dwelling.id, type(dwelling)

    def issue_once(_):
        with web.app_context():
            home = db.session.get(model, dwelling_id)
            try:
                letters.issue_codes([home], actor=None, days=30, secret=SECRET)
            except DomainError:
                return "busy"
            finally:
                db.session.remove()
            return "ok"

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(issue_once, range(12)))
    assert "ok" in results
    live = db.session.scalar(
        sa.select(sa.func.count(ActivationCode.id)).where(
            ActivationCode.used_at.is_(None), ActivationCode.revoked_at.is_(None)
        )
    )
    assert live == 1


WRONG = "This phone number is not the one on the roster for this home. Tries left: %(left)s."


@pytest.mark.parametrize("already_wrong", [0, 4])
def test_concurrent_wrong_phones_get_no_more_answers_than_the_lock_allows(web, app, already_wrong):
    """Twenty wrong numbers at once: at most the tries left are answered "wrong number";
    every other try is told the letter is locked, so no sixth guess is ever checked."""
    from concurrent.futures import ThreadPoolExecutor

    _, _, dwelling = setup_home()
    token = issue(dwelling)
    db.session.execute(sa.update(ActivationCode).values(failed_attempts=already_wrong))
    db.session.commit()
    web.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    wrong_answer = zh(WRONG, left=0).split("。")[0]

    def attempt(n):
        client = web.test_client()
        page = activate(client, token, phone=f"1390000{n:04d}")
        return page.status_code, wrong_answer in page.get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(20)))
    answered = [status for status, wrong in results if wrong]
    assert len(answered) == 5 - already_wrong, results
    assert sorted(status for status, wrong in results if not wrong) == [410] * (
        15 + already_wrong
    ), results
    assert db.session.scalar(sa.select(ActivationCode.failed_attempts)) == 5


def test_a_try_read_before_the_lock_is_not_answered_after_it(app, monkeypatch):
    """A try that found the letter open, while others used up its last tries: the wrong
    number is not answered, and even the right one cannot spend the locked letter."""
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    code = letters.check_code(token, max_attempts=5)
    monkeypatch.setattr(letters, "check_code", lambda *args, **kwargs: code)
    db.session.execute(sa.update(ActivationCode).values(failed_attempts=5))  # the others
    with pytest.raises(letters.CodeProblem) as wrong:
        letters.activate(token, "13900000000", "new-password-1", consent=True, max_attempts=5)
    assert wrong.value.message == letters.CODE_LOCKED
    assert db.session.scalar(sa.select(ActivationCode.failed_attempts)) == 5
    with pytest.raises(letters.CodeProblem):
        letters.activate(token, PHONE, "new-password-1", consent=True, max_attempts=5)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    assert db.session.scalar(sa.select(ActivationCode.used_at)) is None


def _error_of(page_text, field_id):
    """The text of a field's error paragraph (the form macro's id="<field>-error")."""
    marker = f'id="{field_id}-error">'
    assert marker in page_text, field_id
    return page_text.split(marker, 1)[1].split("</p>", 1)[0]


def test_activation_shows_every_problem_at_once_next_to_its_field(client):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    page = activate(
        client, token, phone="138 1234", password="short", confirm="other", consent=None
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert zh("Enter an 11-digit mobile number.") in _error_of(text, "phone")
    assert zh("Choose a password of at least %(n)s characters.", n=8) in _error_of(text, "password")
    assert zh("The two passwords are not the same.") in _error_of(text, "confirm")
    assert zh("Please agree to the privacy notice to continue.") in _error_of(text, "consent")
    assert 'value="138 1234"' in text  # what was typed is kept ...
    assert 'value="short"' not in text and 'value="other"' not in text  # ... not passwords
    assert db.session.scalar(sa.select(ActivationCode.failed_attempts)) == 0  # not a guess


def test_a_number_not_on_the_roster_is_shown_at_the_phone_field(client):
    _, _, dwelling = setup_home()
    token = issue(dwelling)
    page = activate(client, token, phone="13900000000")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert zh(WRONG, left=4) in _error_of(text, "phone")
    assert 'value="13900000000"' in text
    assert re.search(r'<input[^>]* checked [^>]*id="consent"', text)  # agreement kept


def test_an_existing_accounts_wrong_password_is_shown_at_the_password_field(client):
    compound, owner, dwelling = setup_home()
    make_user(PHONE, password=PASSWORD)
    page = activate(client, issue(dwelling), password="not-the-password")
    assert page.status_code == 422
    assert zh(
        "This phone number already has an account. Enter that account's password to "
        "add this home. Forgot it? Ask the committee for a password reset letter."
    ) in (_error_of(page.get_data(as_text=True), "password"))
