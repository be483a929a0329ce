"""The compound's dues ledger as an XLSX workbook."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from app.community import roster as roster_rules
from app.community.models import Compound
from app.core.money import fen_to_yuan
from app.core.timeutil import LOCAL_TZ, as_utc
from app.dues import rules
from app.dues.figures import arrears_by_building
from app.dues.funds import _addresses
from app.dues.models import (
    Channel,
    CostItem,
    FundAccount,
    IncomeKind,
    Payment,
    PaymentStatus,
)
from app.dues.public_income import income_ledger
from app.extensions import db

# The export speaks both languages in every cell, like its headers (staff share the file
# with the street office and auditors whatever language their screen is in).
EXPORT_NAMES = {
    Channel.DIRECT: "直接缴费 direct",
    Channel.PROVIDENT_FUND: "住房公积金 provident fund",
    Channel.MAINTENANCE_FUND: "维修资金 maintenance fund",
    Channel.PUBLIC_INCOME: "公共收益 public income",
    Channel.HARDSHIP: "困难补助 hardship",
    PaymentStatus.PENDING: "待确认 pending",
    PaymentStatus.CONFIRMED: "已确认 confirmed",
    PaymentStatus.REJECTED: "已退回 rejected",
    PaymentStatus.WITHDRAWN: "已撤回 withdrawn",
    IncomeKind.ADS: "广告 ads",
    IncomeKind.PARKING: "停车 parking",
    IncomeKind.CHARGING: "充电 charging",
    IncomeKind.KIOSK: "售货亭 kiosk",
    IncomeKind.LOCKER: "快递柜 locker",
    IncomeKind.OTHER: "其他 other",
    IncomeKind.COST: "成本 cost",
}


def ledger_workbook(compound: Compound, today: date | None = None) -> bytes:
    """The compound's dues ledger as XLSX: payments, public income, fund balances, arrears.
    Every cell is text, never a formula; amounts are yuan with two decimals; every date
    carries its year (2026-11-26), times are Beijing time."""

    def yuan(fen: int) -> str:
        return str(fen_to_yuan(fen))

    def local(moment: datetime | None) -> str:
        return as_utc(moment).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""

    address = _addresses(compound)
    items = {
        i.id: i.name
        for i in db.session.scalars(sa.select(CostItem).where(CostItem.compound_id == compound.id))
    }
    entries, uses = income_ledger(compound)
    sheets = {
        "payments": (
            [
                "编号 id",
                "房屋 home",
                "项目 item",
                "渠道 channel",
                "金额 amount (yuan)",
                "状态 status",
                "凭证 reference",
                "原因 reason",
                "登记 recorded (北京时间 Beijing time)",
                "处理 decided (北京时间 Beijing time)",
            ],
            [
                [
                    p.id,
                    address.get(p.dwelling_id, ""),
                    items.get(p.item_id, "") if p.item_id else "物业费 property fee",
                    EXPORT_NAMES[p.channel],
                    yuan(p.amount_fen),
                    EXPORT_NAMES[p.status],
                    p.reference,
                    p.reason,
                    local(p.recorded_at),
                    local(p.decided_at),
                ]
                for p in db.session.scalars(
                    sa.select(Payment)
                    .where(Payment.compound_id == compound.id)
                    .order_by(Payment.id)
                )
            ],
        ),
        "public income": (
            ["日期 date", "类别 kind", "金额 amount (yuan)", "说明 note"],
            [
                [
                    e.occurred_on.isoformat(),
                    EXPORT_NAMES[e.kind],
                    yuan(-e.amount_fen if e.kind is IncomeKind.COST else e.amount_fen),
                    e.note,
                ]
                for e in entries
            ]
            + [
                [
                    local(u.created_at)[:10],
                    "使用 use",
                    yuan(-u.amount_fen),
                    items.get(u.item_id, "维修资金 fund") + (f" · {u.note}" if u.note else ""),
                ]
                for u in uses
            ],
        ),
        "fund": (
            ["房屋 home", "初始交存 initial (yuan)", "余额 balance (yuan)", "低于30% below 30%"],
            [
                [
                    address.get(a.dwelling_id, ""),
                    yuan(a.initial_fen),
                    yuan(a.balance_fen),
                    "是 yes" if rules.fund_is_low(a.balance_fen, a.initial_fen) else "",
                ]
                for a in db.session.scalars(
                    sa.select(FundAccount)
                    .where(FundAccount.compound_id == compound.id)
                    .order_by(FundAccount.id)
                )
            ],
        ),
        "arrears": (
            [
                "楼栋 building",
                "户数 homes",
                "欠费户 in arrears",
                "应付 owed (yuan)",
                "已付 paid (yuan)",
                "未付 outstanding (yuan)",
                "待确认 awaiting confirmation (yuan)",
                "还需缴纳 still to pay (yuan)",
            ],
            [
                [
                    r.building,
                    r.homes,
                    r.homes_in_arrears,
                    yuan(r.share_fen),
                    yuan(r.paid_fen),
                    yuan(r.outstanding_fen),
                    yuan(r.pending_fen),
                    yuan(r.to_pay_fen),
                ]
                for r in arrears_by_building(compound, today)
            ],
        ),
    }
    return roster_rules.write_tables_xlsx(sheets)
