"""Two compounds full of data, for crawling every page as every role.

Compound A holds the attackers: an owner, a tenant and one staff account per role, each
with data of their own. Compound B holds the victims; A also holds a neighbour household.
Victims' private data carry markers (names, phones, references, descriptions) that no
attacker's response may ever contain.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from fractions import Fraction

from PIL import Image

from app.accounts.models import Role
from app.bookings import canteen, classroom
from app.bookings.models import Meal, Service
from app.community import letters
from app.community.models import Relation
from app.core.timeutil import local_today, utcnow
from app.decisions import drafts, lifecycle, roll, voting
from app.decisions.models import BallotKind
from app.dues import costs, payments
from app.dues.models import Bearer, Channel
from app.extensions import db
from app.repairs import register, reports
from app.repairs.rules import Category
from tests.fixtures.factories import make_compound, make_dwelling, make_person, make_user

STAFF_ROLES = (
    Role.COMMITTEE,
    Role.PROPERTY_MANAGER,
    Role.CANTEEN_OPERATOR,
    Role.CLASSROOM_OPERATOR,
    Role.STREET_ADMIN,
    Role.CONTRACTOR,
)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 80, 40)).save(out, "JPEG")
    return out.getvalue()


@dataclass
class Household:
    user: object
    person: object
    home: object
    markers: dict = field(default_factory=dict)  # what must not leak -> the text
    ids: dict = field(default_factory=dict)  # url argument name -> ids of its objects


@dataclass
class Side:
    compound: object
    owner: Household
    tenant: Household
    neighbour: Household
    staff: dict  # Role -> User
    ids: dict = field(default_factory=dict)  # compound-wide objects by url argument name


def _household(
    compound,
    tag: str,
    phone: str,
    *,
    building: str,
    room: str,
    relation=Relation.OWNER,
    landlord=None,
    upload_dir=None,
) -> Household:
    person = make_person(compound, name=f"户主{tag}", phone=phone, birth_year=1950)
    if relation is Relation.OWNER:
        home = make_dwelling(
            compound, building=building, room=room, floor=3, area="70.00", owner=person
        )
    else:
        home = make_dwelling(
            compound,
            building=building,
            room=room,
            floor=3,
            area="70.00",
            owner=landlord,
            tenant=person,
        )
    user = make_user(phone, name=person.name)
    person.user_id = user.id
    db.session.commit()
    return Household(user, person, home, markers={"name": person.name, "phone": phone})


def _side(tag: str, base_phone: int, upload_dir) -> Side:
    compound = make_compound(f"小区{tag}", accepted_on=date(2025, 6, 1))
    owner = _household(compound, f"{tag}主", str(base_phone + 1), building="1", room="301")
    landlord = make_person(compound, name=f"房东{tag}", phone=str(base_phone + 2))
    tenant = _household(
        compound,
        f"{tag}租",
        str(base_phone + 3),
        building="1",
        room="302",
        relation=Relation.TENANT,
        landlord=landlord,
    )
    neighbour = _household(compound, f"{tag}邻", str(base_phone + 4), building="2", room="401")
    for n in range(3):  # homes nobody signs in to, so votes can fall short
        make_dwelling(
            compound,
            building="2",
            room=f"50{n}",
            floor=5,
            area="55.50",
            owner=make_person(compound, name=f"业主{tag}{n}"),
        )
    staff = {}
    for offset, role in enumerate(STAFF_ROLES):
        staff[role] = make_user(
            str(base_phone + 10 + offset), name=f"{role.value}{tag}", grants=[(role, compound)]
        )
    side = Side(compound, owner, tenant, neighbour, staff)
    _decisions(side)
    _bookings(side, tag)
    _dues(side, tag, upload_dir)
    _repairs(side, tag, upload_dir)
    batch, _issued = letters.issue_codes(
        [neighbour.home], actor=staff[Role.COMMITTEE], days=30, secret="test-secret-key"
    )
    side.ids["batch_id"] = [batch.id]
    side.ids["compound_id"] = [compound.id]
    for household in (owner, tenant, neighbour):
        household.ids.setdefault("dwelling_id", []).append(household.home.id)
        household.ids.setdefault("person_id", []).append(household.person.id)
    return side


def _decisions(side: Side) -> None:
    now = utcnow()
    compound = side.compound
    open_ = drafts.create_ballot(
        compound,
        drafts.BallotSpec(
            kind=BallotKind.WILLINGNESS,
            title="改造意愿征询",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=10),
            notice_days=7,
        ),
        actor=None,
        now=now - timedelta(days=20),
    )
    lifecycle.publish_notice(open_, actor=None, now=now - timedelta(days=20))
    lifecycle.open_ballot(open_, actor=None, now=now - timedelta(hours=2))
    notice = drafts.create_ballot(
        compound,
        drafts.BallotSpec(
            kind=BallotKind.GENERAL,
            title="公示中的表决",
            opens_at=now + timedelta(days=20),
            closes_at=now + timedelta(days=30),
            notice_days=15,
        ),
        actor=None,
        now=now,
    )
    lifecycle.publish_notice(notice, actor=None, now=now)
    draft = drafts.create_ballot(
        compound,
        drafts.BallotSpec(
            kind=BallotKind.GENERAL,
            title="草稿表决",
            opens_at=now + timedelta(days=20),
            closes_at=now + timedelta(days=30),
            notice_days=15,
        ),
        actor=None,
        now=now,
    )
    seats = roll.seats_of(open_, side.neighbour.user)
    voting.cast_vote(open_, seats[0].voter_key, open_.options[1].id, actor=side.neighbour.user)
    side.ids["ballot_id"] = [open_.id, notice.id, draft.id]
    side.neighbour.ids["voter_key"] = [seats[0].voter_key]
    side.ids["voter_key"] = [seats[0].voter_key]


def _bookings(side: Side, tag: str) -> None:
    compound = side.compound
    today = local_today()
    meal = canteen.create_meal_session(
        compound,
        day=today + timedelta(days=2),
        meal=Meal.LUNCH,
        serves=time(11, 30),
        cutoff_hours=2,
        capacity=20,
    )
    dish = canteen.add_dish(
        meal, name="红烧肉套餐", price_fen=1000, elder_price_fen=600, capacity=10
    )
    del dish
    classroom.create_class_sessions(
        compound, start=today, end=today + timedelta(days=7), capacity=5, tutor="周老师"
    )
    classes = classroom.upcoming_classes({compound.id}, days=8, include_today=True)
    side.ids["session_id"] = [meal.id] + [c.id for c in classes[:2]]
    # Today's session may have started already (after 16:30): book the next one to come.
    not_started = next(c for c in classes if c.starts_at > utcnow())
    for household in (side.owner, side.neighbour):
        member = canteen.add_member(
            household.user, household.home, f"家属{household.person.name}", 1948
        )
        household.markers["member"] = member.name
        diners = canteen.household(household.user, household.home)
        choices = {d.key: meal.dishes[0].id for d in diners}
        booking = canteen.book_meal(
            meal,
            household.user,
            household.home,
            choices,
            Service.DINE_IN,
            f"req-{household.person.id}",
        )
        child = classroom.register_child(
            household.user,
            household.home,
            name=f"孩子{household.person.name}",
            grade=3,
            school="实验小学",
            pickup_adults="外婆",
            consent=True,
        )
        household.markers["child"] = child.name
        class_booking = classroom.book_class(not_started, child)
        household.ids["member_id"] = [member.id]
        household.ids["child_id"] = [child.id]
        household.ids["booking_id"] = [booking.id, class_booking.id]
        household.ids["line_id"] = [line.id for line in booking.lines]


def _dues(side: Side, tag: str, upload_dir) -> None:
    compound = side.compound
    item = costs.add_item(
        compound,
        costs.ItemSpec(
            name="更换外窗", total_fen=1_000_000, bearers={Bearer.GOVERNMENT: Fraction(1, 2)}
        ),
    )
    side.ids["item_id"] = [item.id]
    manager = side.staff[Role.PROPERTY_MANAGER]
    for household in (side.owner, side.neighbour):
        reference = f"REF-{tag}-{household.person.id}-SECRET"
        payment, _new = payments.record_payment(
            household.user,
            household.home,
            key=item.id,
            channel=Channel.DIRECT,
            amount_fen=1000,
            reference=reference,
            photo=jpeg(),
            token=f"pay-{household.person.id}",
            upload_dir=upload_dir,
        )
        confirmed, _new = payments.record_payment(
            household.user,
            household.home,
            key=item.id,
            channel=Channel.DIRECT,
            amount_fen=500,
            reference=reference + "2",
            photo=None,
            token=f"pay2-{household.person.id}",
            upload_dir=upload_dir,
        )
        payments.confirm_payment(confirmed, manager)
        household.markers["reference"] = reference
        household.ids["payment_id"] = [payment.id, confirmed.id]


def _repairs(side: Side, tag: str, upload_dir) -> None:
    compound = side.compound
    contractor = side.staff[Role.CONTRACTOR]
    facility = register.add_facility(
        compound,
        category=Category.LIGHTS_CHARGERS,
        name="东门路灯",
        area="东门",
        contractor_name="城建集团",
        contractor_phone=contractor.phone,
    )
    side.ids["code"] = [facility.sticker_code]
    for household, common in ((side.owner, True), (side.neighbour, False)):
        # A common-area report is shared with the neighbours ("me too"); one about the
        # home is private to its household.
        description = f"路灯不亮{tag}" if common else f"家中水管漏水{household.person.id}秘"
        ticket = reports.report(
            household.user,
            compound_id=compound.id,
            description=description,
            category=Category.LIGHTS_CHARGERS if common else Category.UTILITIES,
            facility=facility if common else None,
            dwelling_id=None if common else household.home.id,
            location="东门" if common else "",
            photos=[jpeg()],
            request_key=f"rep-{household.person.id}",
            upload_dir=upload_dir,
        )
        if not common:
            household.markers["ticket"] = description
        household.ids["ticket_id"] = [ticket.id]
        household.ids["photo_id"] = [p.id for p in ticket.photos]


@dataclass
class World:
    a: Side
    b: Side

    def attackers(self) -> dict[str, object | None]:
        """Who crawls: anonymous, A's owner and tenant, and each staff role of A."""
        people = {"anonymous": None, "owner": self.a.owner.user, "tenant": self.a.tenant.user}
        people.update({role.value: user for role, user in self.a.staff.items()})
        return people

    def victims_of(self, who: str) -> list[Household]:
        """Households whose private data this attacker must never see."""
        victims = [self.b.owner, self.b.tenant, self.b.neighbour]
        if who in ("anonymous", "owner", "tenant"):
            victims.append(self.a.neighbour)
        return victims


def build_world(upload_dir) -> World:
    return World(a=_side("甲", 13810000000, upload_dir), b=_side("乙", 13820000000, upload_dir))
