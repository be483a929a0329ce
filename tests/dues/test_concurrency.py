"""Double taps and simultaneous staff: a home is never credited more than it owes."""

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from app.accounts.models import User
from app.community.models import Compound, Dwelling
from app.core.errors import DomainError
from app.dues import bills, funds, payments
from app.dues.models import Channel, FundAccount, FundMovement, Payment, PaymentStatus
from app.extensions import db
from tests.dues.conftest import TODAY, passed_fund_ballot
from tests.dues.test_ledger import FUND_CSV


def run_all(web, jobs, work):
    def one(args):
        with web.app_context():
            try:
                return work(*args)
            except DomainError:
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, jobs))


def test_simultaneous_payments_never_exceed_the_share(web, estate, tmp_path):
    owner_id, home_id, item_id = estate.owner.id, estate.home.id, estate.windows.id

    def pay(n):
        payment, _ = payments.record_payment(
            db.session.get(User, owner_id),
            db.session.get(Dwelling, home_id),
            key=item_id,
            channel=Channel.DIRECT,
            amount_fen=100_000,
            reference=f"转账 {n}",
            photo=None,
            token=f"t{n}",
            upload_dir=tmp_path,
            today=TODAY,
        )
        return payment.id

    results = run_all(web, [(n,) for n in range(12)], pay)
    assert results.count("refused") == 8  # ¥4,000 owed: four payments of ¥1,000 fit
    db.session.expire_all()
    total = db.session.scalar(sa.select(sa.func.sum(Payment.amount_fen)))
    assert total == 400_000


def test_two_managers_confirming_at_once_confirm_once(web, estate, tmp_path):
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    funds.link_fund_decision(estate.elevator, passed_fund_ballot(estate.compound).id)
    payment, _ = payments.record_payment(
        estate.owner,
        estate.home,
        key=estate.elevator.id,
        channel=Channel.MAINTENANCE_FUND,
        amount_fen=150_000,
        reference="",
        photo=None,
        token="",
        upload_dir=tmp_path,
        today=TODAY,
    )
    payment_id, manager_id, compound_id = payment.id, estate.manager.id, estate.compound.id

    def confirm(_):
        compound = db.session.get(Compound, compound_id)
        return payments.confirm_payment(
            payments.get_payment_for_staff(payment_id, compound),
            db.session.get(User, manager_id),
            TODAY,
        )

    results = run_all(web, [(n,) for n in range(8)], confirm)
    assert results.count(True) == 1 and results.count(False) == 7
    db.session.expire_all()
    assert db.session.get(Payment, payment_id).status is PaymentStatus.CONFIRMED
    account = db.session.scalar(
        sa.select(FundAccount).where(FundAccount.dwelling_id == estate.home.id)
    )
    assert account.balance_fen == 50_000
    assert (
        db.session.scalar(
            sa.select(sa.func.count(FundMovement.id)).where(FundMovement.payment_id == payment_id)
        )
        == 1
    )


def test_pending_fund_payments_hold_the_balance(estate, tmp_path):
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    ballot = passed_fund_ballot(estate.compound)
    funds.link_fund_decision(estate.elevator, ballot.id)
    funds.link_fund_decision(estate.windows, ballot.id)
    payments.record_payment(
        estate.owner,
        estate.home,
        key=estate.elevator.id,
        channel=Channel.MAINTENANCE_FUND,
        amount_fen=150_000,
        reference="",
        photo=None,
        token="",
        upload_dir=tmp_path,
        today=TODAY,
    )
    line = bills.bill_for(estate.home, TODAY).line(estate.windows.id)
    assert line.channel(Channel.MAINTENANCE_FUND).max_fen == 50_000  # ¥2,000 less ¥1,500


def test_confirming_a_fund_preview_at_once_imports_it_once(web, estate):
    token = funds.preview_fund_import(estate.compound, FUND_CSV, "fund.csv", actor=estate.manager)
    manager_id, compound_id = estate.manager.id, estate.compound.id

    def confirm(_):
        return funds.confirm_fund_import(
            db.session.get(Compound, compound_id), token, db.session.get(User, manager_id)
        )

    results = run_all(web, [(n,) for n in range(8)], confirm)
    assert results.count("refused") == 7  # AlreadyImported
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(FundMovement.id))) == 2
    from app.accounts.models import AccessLog

    assert (
        db.session.scalar(
            sa.select(sa.func.count(AccessLog.id)).where(AccessLog.action == "fund_import")
        )
        == 1
    )
