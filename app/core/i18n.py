"""Language and formatting: zh_Hans by default, English second, Asia/Shanghai time."""

from datetime import date, datetime

from babel.dates import format_date as babel_format_date
from flask import current_app, g, request
from flask_babel import format_datetime, get_locale, lazy_gettext
from flask_login import current_user

from app.core.money import format_fen
from app.core.privacy import mask_phone
from app.core.timeutil import LOCAL_TZ, as_utc, local_today
from app.extensions import babel

LANG_COOKIE = "lang"
ELDER_COOKIE = "elder"

lazy = lazy_gettext


def select_locale() -> str:
    """Pick the language: explicit choice (cookie), the account's, then zh_Hans."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang() -> str:
    return "zh-Hans" if str(get_locale()).startswith("zh") else "en"


def fmt_date(value: date | datetime | None, *, year: bool = False) -> str:
    """11月26日 周四 in Chinese; Thu 26 Nov in English — with the year when it is not this
    year, or always with year=True (printed and legal pages: notices, results, letters,
    statements, sheets, stickers and exports are read long after this year)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(LOCAL_TZ).date()
    locale = get_locale()
    with_year = year or value.year != local_today().year
    if str(locale).startswith("zh"):
        pattern = "y年MMMd日 EEE" if with_year else "MMMd日 EEE"
    else:
        pattern = "EEE d MMM y" if with_year else "EEE d MMM"
    return babel_format_date(value, pattern, locale=locale)


def fmt_datetime(value: datetime | None, *, year: bool = False) -> str:
    if value is None:
        return ""
    return f"{fmt_date(value, year=year)} {format_datetime(value, 'HH:mm')}"


def fmt_full_date(value: date | datetime | None) -> str:
    """A date that always carries its year: 2026年11月22日 周日 / Sun 22 Nov 2026."""
    return fmt_date(value, year=True)


def fmt_full_datetime(value: datetime | None) -> str:
    return fmt_datetime(value, year=True)


def fmt_money(fen: int) -> str:
    return format_fen(fen, str(get_locale()))


def fmt_share(part, whole) -> str:
    """part/whole as a percentage with one decimal ("78.1%"), for display only."""
    from decimal import Decimal

    from babel.numbers import format_percent

    part, whole = Decimal(str(part)), Decimal(str(whole))
    value = part / whole if whole else Decimal(0)
    return format_percent(value, "#,##0.0%", locale=get_locale())


def fmt_area(centi: int | str) -> str:
    """An area as m² with two decimals; accepts centi-m² or a decimal string."""
    from decimal import Decimal

    from babel.numbers import format_decimal

    value = Decimal(centi) / 100 if isinstance(centi, int) else Decimal(str(centi))
    return format_decimal(value, "#,##0.00", locale=get_locale()) + " m²"


def init_app(app) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(
        date=fmt_date,
        datetime=fmt_datetime,
        money=fmt_money,
        mask_phone=mask_phone,
        area=fmt_area,
        full_date=fmt_full_date,
        full_datetime=fmt_full_datetime,
    )
    app.jinja_env.globals["share"] = fmt_share

    @app.context_processor
    def inject_i18n():
        return {
            "html_lang": html_lang(),
            "current_locale": str(get_locale()),
            "elder_mode": request.cookies.get(ELDER_COOKIE) == "1",
        }

    @app.before_request
    def remember_locale():
        g.locale = str(get_locale())
