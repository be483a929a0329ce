"""One shared input filter: control and direction characters never reach a feature."""

from datetime import date

from flask import request
from flask_babel import force_locale

from app.core.i18n import fmt_date, fmt_full_date
from app.core.text import clean_text


def test_clean_text_keeps_words_newlines_and_emoji():
    assert clean_text("王\u202e秀英\x07\u200f") == "王秀英"
    assert clean_text("第一行\r\n第二行\r第三\t行") == "第一行\n第二行\n第三\t行"
    assert clean_text("👨\u200d👩\u200d👧 家") == "👨\u200d👩\u200d👧 家"


def test_every_form_field_and_query_value_arrives_cleaned(app):
    with app.test_request_context(
        "/x?q=a\u202eb", method="POST", data={"name": "gpj\u202e.exe", "note": "a\x1bb"}
    ):
        app.preprocess_request()
        assert request.form["name"] == "gpj.exe"
        assert request.form["note"] == "ab"
        assert request.args["q"] == "ab"


def test_a_nul_byte_is_refused(client):
    assert client.post("/login", data={"phone": "1\x00", "password": "x"}).status_code == 400
    assert client.get("/receipts?code=A%00B").status_code == 400


def test_printed_dates_always_carry_the_year(app):
    with app.test_request_context():
        with force_locale("zh_Hans"):
            this_year = date.today().replace(month=11, day=22)
            assert fmt_full_date(this_year).startswith(f"{this_year.year}年11月22日")
            assert not fmt_date(this_year).startswith(str(this_year.year))
        with force_locale("en"):
            assert fmt_full_date(date(2026, 11, 22)) == "Sun 22 Nov 2026"
