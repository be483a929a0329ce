import io
from datetime import date

import pytest
from PIL import Image

from app.accounts.models import Role
from app.extensions import db
from app.repairs import register
from app.repairs.rules import Category
from tests.fixtures.factories import make_compound, make_resident, make_user


def jpeg_with_gps(size=(3000, 2000)) -> bytes:
    """A camera-like JPEG carrying EXIF with a GPS position."""
    image = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def estate(app):
    compound = make_compound("金源新村", accepted_on=date(2025, 10, 30))
    resident, home = make_resident(compound, "13800000001", building="3")
    neighbour, other_home = make_resident(compound, "13800000002", building="4")
    manager = make_user("13900000002", grants=[(Role.PROPERTY_MANAGER, compound)])
    contractor = make_user("13900000006", grants=[(Role.CONTRACTOR, compound)])
    manhole = register.add_facility(
        compound,
        category=Category.DRAINAGE,
        name="3幢北侧窨井",
        building="3",
        contractor_name="城建集团",
        contractor_phone="13900000006",
    )
    lawn = register.add_facility(
        compound, category=Category.GREEN, name="中心绿地", area="中心花园", renovated=True
    )
    db.session.commit()
    return {
        "compound": compound,
        "resident": resident,
        "home": home,
        "neighbour": neighbour,
        "other_home": other_home,
        "manager": manager,
        "contractor": contractor,
        "manhole": manhole,
        "lawn": lawn,
    }
