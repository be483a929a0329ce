"""Roster import through the service, the upload page and the CLI: all or nothing, no duplicates."""

import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.accounts.models import AccessLog, Role
from app.community import roster as rules
from app.community import roster_files, services
from app.community.models import Building, Dwelling, Occupancy, Person, Relation, Unit
from app.core.errors import DomainError
from app.extensions import db
from tests.conftest import zh
from tests.fixtures.factories import make_compound, make_user

HEADER = "楼栋,单元,房号,楼层,专有面积,业主姓名,业主手机,产权人编号,业主类型,出生年份\n"
GOOD = (
    HEADER
    + "1,1,101,1,65.50,王建国,13800000001,,个人,1950\n"
    + "1,1,102,1,58.20,李秀英,13800000002,,,1962\n"
    + "1,2,101,1,70.00,王建国,13800000001,,,1950\n"  # one owner, two homes
    + "2幢,,301,3,88.88,市纺织厂,,GF-1,单位,\n"
    + "3,1,601,6,90.00,开发公司,,,开发商,\n"
    + "3,1,602,6,90.00,开发公司,,,开发商,\n"
)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_import_builds_the_compound(app):
    compound = make_compound()
    summary = roster_files.import_roster(compound, GOOD.encode(), "r.csv", actor=None)
    assert (summary.rows, summary.created, summary.updated) == (6, 6, 0)
    assert count(Building) == 3 and count(Unit) == 4 and count(Dwelling) == 6
    # one owner of two homes, the institution, one developer for both unsold units
    assert count(Person) == 4
    wang = db.session.scalar(sa.select(Person).where(Person.phone == "13800000001"))
    assert len(wang.memberships) == 2
    developer = db.session.scalar(sa.select(Person).where(Person.name == "开发公司"))
    assert developer.owner_type.value == "developer" and len(developer.memberships) == 2
    assert db.session.scalar(sa.select(Building.name).where(Building.name == "2")) == "2"


def test_reimport_updates_and_never_duplicates(app):
    compound = make_compound()
    roster_files.import_roster(compound, GOOD.encode(), "r.csv", actor=None)
    changed = GOOD.replace(
        "1,1,102,1,58.20,李秀英,13800000002", "1,1,102,1,58.30,赵丽华,13800000003"
    )
    summary = roster_files.import_roster(compound, changed.encode(), "r.csv", actor=None)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 5)
    assert count(Dwelling) == 6
    home = db.session.scalar(sa.select(Dwelling).where(Dwelling.room == "102"))
    assert str(home.area_m2) == "58.30"
    assert [p.name for p in home.owners] == ["赵丽华"]


def test_a_bad_row_imports_nothing(app):
    compound = make_compound()
    bad = GOOD + "4,1,101,1,-5,错误,13800000009,,,\n" + "4,1,102,x,50,错误,123,,,\n"
    with pytest.raises(services.RosterRejected) as rejected:
        roster_files.import_roster(compound, bad.encode(), "r.csv", actor=None)
    problems = rejected.value.problems
    assert sorted({p.row for p in problems}) == [8, 9]
    assert {"area_m2", "floor", "owner_phone"} <= {p.column for p in problems}
    assert count(Dwelling) == 0 and count(Person) == 0 and count(Building) == 0


def test_bad_file_on_reimport_leaves_existing_data_untouched(app):
    compound = make_compound()
    roster_files.import_roster(compound, GOOD.encode(), "r.csv", actor=None)
    broken = GOOD.replace("65.50", "65.555")
    with pytest.raises(services.RosterRejected):
        roster_files.import_roster(compound, broken.encode(), "r.csv", actor=None)
    home = db.session.scalar(sa.select(Dwelling).where(Dwelling.room == "101").limit(1))
    assert str(home.area_m2) == "65.50"


def test_dry_run_changes_nothing(app):
    compound = make_compound()
    summary = roster_files.import_roster(compound, GOOD.encode(), "r.csv", actor=None, dry_run=True)
    assert summary.dry_run and summary.created == 6
    assert count(Dwelling) == 0 and count(Person) == 0


def test_wrong_columns_is_a_clear_error(app):
    compound = make_compound()
    with pytest.raises(DomainError) as error:
        roster_files.import_roster(compound, b"name,phone\nx,y\n", "r.csv", actor=None)
    assert "%(missing)s" in error.value.message and "专有面积" in error.value.params["missing"]


def test_export_round_trips_unchanged(app):
    compound = make_compound()
    roster_files.import_roster(compound, GOOD.encode(), "r.csv", actor=None)
    for fmt in ("csv", "xlsx"):
        data = roster_files.export_roster(compound, fmt, actor=None)
        summary = roster_files.import_roster(compound, data, f"roster.{fmt}", actor=None)
        assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 6), fmt
    assert count(Dwelling) == 6 and count(Person) == 4


def test_tenant_columns_add_and_remove_tenants(app):
    compound = make_compound()
    with_tenant = (
        "building,unit,room,floor,area_m2,owner_name,owner_phone,tenant_name,tenant_phone\n"
        "1,1,101,1,50,房东,13800000001,租客,13700000001\n"
    )
    roster_files.import_roster(compound, with_tenant.encode(), "r.csv", actor=None)
    relations = db.session.scalars(sa.select(Occupancy.relation)).all()
    assert sorted(r.value for r in relations) == ["owner", "tenant"]
    moved_out = with_tenant.replace("租客,13700000001", ",")
    roster_files.import_roster(compound, moved_out.encode(), "r.csv", actor=None)
    assert db.session.scalars(sa.select(Occupancy.relation)).all() == [Relation.OWNER]


def test_gbk_csv_from_excel(app):
    compound = make_compound()
    summary = roster_files.import_roster(compound, GOOD.encode("gbk"), "r.csv", actor=None)
    assert summary.created == 6
    assert (
        db.session.scalar(sa.select(Person.name).where(Person.phone == "13800000002")) == "李秀英"
    )


def committee(compound):
    return make_user("13900000001", grants=[(Role.COMMITTEE, compound)])


def test_upload_page_imports_and_reports(client, sign_in, app):
    compound = make_compound()
    committee(compound)
    sign_in("13900000001")
    url = f"/staff/compounds/{compound.id}/roster"
    assert client.get(url).status_code == 200
    page = client.post(
        url,
        data={"file": (io.BytesIO(GOOD.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    assert zh("Roster imported.") in page.get_data(as_text=True)
    assert count(Dwelling) == 6
    assert db.session.scalar(sa.select(AccessLog.action).where(AccessLog.action == "roster_import"))


def test_upload_page_lists_every_bad_row_and_saves_nothing(client, sign_in, app):
    compound = make_compound()
    committee(compound)
    sign_in("13900000001")
    bad = GOOD + "1,1,101,1,50,重复,13800000008,,,\n" + "9,1,1,1,abc,某人,,,,\n"
    page = client.post(
        f"/staff/compounds/{compound.id}/roster",
        data={"file": (io.BytesIO(bad.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "<td>8</td>" in text and "<td>9</td>" in text
    assert count(Dwelling) == 0


def test_upload_of_a_non_spreadsheet_is_a_message(client, sign_in, app):
    compound = make_compound()
    committee(compound)
    sign_in("13900000001")
    for name, data in [
        ("photo.xlsx", b"PK\x03\x04garbage"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        ("empty.csv", b""),
        ("photo.png", b"\x89PNG"),
    ]:
        page = client.post(
            f"/staff/compounds/{compound.id}/roster",
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        assert page.status_code == 422, name
        assert 'id="file-error"' in page.get_data(as_text=True), name
    assert count(Dwelling) == 0


def test_download_button_gives_the_import_format(client, sign_in, app):
    compound = make_compound()
    roster_files.import_roster(compound, GOOD.encode(), "r.csv", actor=None)
    committee(compound)
    sign_in("13900000001")
    response = client.get(f"/staff/compounds/{compound.id}/roster.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == rules.header_row("zh")
    assert len(rows) == 7
    csv_response = client.get(f"/staff/compounds/{compound.id}/roster.csv")
    assert csv_response.data.startswith("\ufeff楼栋".encode())
    assert client.get(f"/staff/compounds/{compound.id}/roster.pdf").status_code == 404


def test_cli_import_dry_run_and_export(runner, app, tmp_path):
    compound = make_compound("金源新村")
    path = tmp_path / "roster.csv"
    path.write_bytes(GOOD.encode("gbk"))
    result = runner.invoke(args=["roster", "import", "金源新村", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert count(Dwelling) == 0
    result = runner.invoke(args=["roster", "import", str(compound.id), str(path)])
    assert result.exit_code == 0 and "6 new" in result.output
    out = tmp_path / "back.xlsx"
    result = runner.invoke(args=["roster", "export", "金源新村", str(out)])
    assert result.exit_code == 0
    result = runner.invoke(args=["roster", "import", "金源新村", str(out)])
    assert "0 new, 0 updated, 6 unchanged" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "1,1,101,0,50,某人,,,,\n")
    result = runner.invoke(args=["roster", "import", "金源新村", str(bad)])
    assert result.exit_code != 0 and "row 2" in result.output
    result = runner.invoke(args=["roster", "import", "没有这个小区", str(path)])
    assert result.exit_code != 0 and "No compound" in result.output


def test_files_over_the_limits_get_a_clear_page(client, sign_in, app):
    compound = make_compound()
    committee(compound)
    sign_in("13900000001")
    big = io.BytesIO(b"x" * (10 * 1024 * 1024 + 1))
    page = client.post(
        f"/staff/compounds/{compound.id}/roster",
        data={"file": (big, "roster.csv")},
        content_type="multipart/form-data",
    )
    assert zh("The file is larger than 10 MB. Please choose a smaller file.") in page.get_data(
        as_text=True
    )
    huge = io.BytesIO(b"x" * (32 * 1024 * 1024 + 1))  # more than any request may carry
    page = client.post(
        f"/staff/compounds/{compound.id}/roster",
        data={"file": (huge, "roster.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 413
    assert zh("File too large") in page.get_data(as_text=True)


# --- who a roster entry is: accounts never follow a home to someone else -------------------


def linked(phone: str):
    """An activated resident: the person with this phone gets an account."""
    person = db.session.scalar(sa.select(Person).where(Person.phone == phone))
    person.user_id = make_user(phone).id
    db.session.commit()
    return person


def test_sold_flat_with_a_new_phone_unlinks_the_old_account(app):
    compound = make_compound()
    data = (
        "building,room,floor,area_m2,owner_name,owner_phone,owner_ref\n"
        "1,101,1,60,王建国,13800000001,P-1\n"
    )
    roster_files.import_roster(compound, data.encode(), "r.csv", actor=None)
    person = linked("13800000001")
    sold = data.replace("王建国,13800000001", "赵丽华,13800000009")
    roster_files.import_roster(compound, sold.encode(), "r.csv", actor=None)
    db.session.refresh(person)
    assert person.user_id is None and person.phone == "13800000009"


def test_new_owner_without_phone_does_not_inherit_the_old_one(app):
    compound = make_compound()
    data = "building,room,floor,area_m2,owner_name,owner_phone\n1,101,1,60,王建国,\n"
    roster_files.import_roster(compound, data.encode(), "r.csv", actor=None)
    person = db.session.scalar(sa.select(Person))
    person.phone = "13800000001"  # checked in person by the committee
    person.user_id = make_user("13800000001").id
    db.session.commit()
    roster_files.import_roster(
        compound, data.replace("王建国", "新业主").encode(), "r.csv", actor=None
    )
    db.session.refresh(person)
    assert (person.name, person.phone, person.user_id) == ("新业主", None, None)
    # the same name again keeps the phone the committee checked
    roster_files.import_roster(
        compound, data.replace("王建国", "新业主").encode(), "r.csv", actor=None
    )


def test_adding_an_owner_ref_keeps_the_same_person_and_account(app):
    compound = make_compound()
    data = "building,room,floor,area_m2,owner_name,owner_phone,owner_ref\n1,101,1,60,王建国,13800000001,\n"
    roster_files.import_roster(compound, data.encode(), "r.csv", actor=None)
    person = linked("13800000001")
    with_ref = data.replace("13800000001,", "13800000001,P-7")
    roster_files.import_roster(compound, with_ref.encode(), "r.csv", actor=None)
    assert count(Person) == 1
    db.session.refresh(person)
    assert person.owner_key == "ref:P-7" and person.user_id is not None


def test_reimport_after_contact_deletion_keeps_the_person(app):
    from app.community.people import delete_contact

    compound = make_compound()
    roster_files.import_roster(compound, GOOD.encode(), "r.csv", actor=None)
    person = linked("13800000002")
    actor = make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    delete_contact(person, actor=actor)
    exported = roster_files.export_roster(compound, "csv", actor=None)
    assert b"13800000002" not in exported
    roster_files.import_roster(compound, exported, "r.csv", actor=None)
    assert count(Person) == 4
    db.session.refresh(person)
    assert person.phone is None and person.memberships
