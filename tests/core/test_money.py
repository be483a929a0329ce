import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.money import MoneyError, fen_to_yuan, parse_yuan
from app.core.privacy import mask_phone, normalize_mobile


@pytest.mark.parametrize(
    "text, fen",
    [
        ("0", 0),
        ("1", 100),
        ("1.5", 150),
        ("1,234.56", 123456),
        ("¥0.01", 1),
        (" 100000.01 ", 10000001),
        ("１２３．５", 12350),
        ("￥1,000,000", 100000000),
        ("100元", 10000),
        ("100 元", 10000),
        ("100块", 10000),
        ("1,280.50元", 128050),
        ("１００元", 10000),
        ("¥ 12", 1200),
    ],
)
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1.001",
        "-1",
        "1e400",
        "1e999999",
        "NaN",
        "Infinity",
        "99999999999999",
        "1,5",
        "12,34.5",
        "1_0",
        "٣",
        "1.",
        ".5",
        "--1",
        "1 000",
        "0x10",
        "+1",
        "1²",
        "1⁰",
        "①⓪⓪",
        "0,500",
        "000,001",
        "1E-999999999",
        "元",
        "元100",
        "100元元",
        "100元 元",
        "1¥00",
        "100¥",
        "10元0",
        "100圆",
        "100 yuan",
        "¥¥1",
        "-5元",
    ],
)
def test_parse_yuan_refuses(text):
    with pytest.raises(MoneyError):
        parse_yuan(text)


@given(st.integers(min_value=0, max_value=10**12))
def test_fen_round_trip(fen):
    assert parse_yuan(str(fen_to_yuan(fen))) == fen


def test_phone_helpers():
    assert normalize_mobile("+86 138-1234-5678") == "13812345678"
    assert normalize_mobile("") is None
    with pytest.raises(ValueError):
        normalize_mobile("02112345678")
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) == ""


@pytest.mark.parametrize(
    "text, value", [("0.30", "0.30"), ("０．３", "0.3"), ("12.5", "12.5"), ("100", "100")]
)
def test_parse_decimal(text, value):
    from decimal import Decimal

    from app.core.money import parse_decimal

    assert parse_decimal(text, places=4, maximum=Decimal(100)) == Decimal(value)


@pytest.mark.parametrize(
    "text", ["0_30", "1E-999999999", "-1", "nan", "1e2", "0.12345", "100.01", "", "²", ".5"]
)
def test_parse_decimal_refuses(text):
    from decimal import Decimal

    from app.core.money import parse_decimal

    with pytest.raises(MoneyError):
        parse_decimal(text, places=4, maximum=Decimal(100))
