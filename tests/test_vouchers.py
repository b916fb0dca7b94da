"""Vouchers: at each quarter's end, floor(balance / 150) vouchers of 150 points worth 1.50.

A `purchase` earns its `amount` in points. Figures by hand: 320 points in Q1 2026 make two
vouchers on 2026-03-31 (300 points), 20 stay; Q2 adds 100: 120 < 150, no voucher on 2026-06-30.
A voucher issued at the end of 31 March 2026 expires 24 months on, on 1 April 2028.
"""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history
from loyalty_dsl.language.parse import parse
from loyalty_dsl.tools.testing import check_examples, run_examples

BASE = """
program "vouchers"
event purchase with amount: integer
event voucher_used
window lifetime, continuous
rule buys:
    on purchase
    earn amount
tier Member from 0 points:
convert points every quarter into vouchers of 150 points worth 1.50
"""
EXPIRE_AND_USE = "vouchers expire after 24 months\nvouchers are used by voucher_used\n"
Q1 = [("purchase", "2026-01-10T10:00:00Z", {"amount": 320})]
Q2 = [("purchase", "2026-04-10T10:00:00Z", {"amount": 100})]


def run(extra: str, records: list[tuple[str, str, dict]], as_of: str) -> dict:
    program = compile_text(BASE + extra, "vouchers.loy")
    data = [orjson.dumps({"member": "m", "type": t, "at": at, **f}) + b"\n" for t, at, f in records]
    history = read_history(["-"], program, stdin=io.BytesIO(b"".join(data)))
    (o,) = outcomes(program, history, dt.date.fromisoformat(as_of))
    return o.to_json()


def test_each_quarter_end_converts_whole_vouchers_and_the_rest_stays():
    assert (run("", Q1, "2026-03-30")["balance"], run("", Q1, "2026-03-30")["vouchers"]) == (320, [])
    o = run("", Q1 + Q2, "2026-06-30")
    assert o["balance"] == 120  # 320 - 2 x 150 + 100
    assert [(v["issued"], v["points"], v["value"], v["expires"], v["status"]) for v in o["vouchers"]] == [
        ("2026-03-31", 150, "1.50", None, "valid"),
        ("2026-03-31", 150, "1.50", None, "valid"),
    ]


def test_vouchers_expire_and_a_use_spends_the_oldest_valid_one():
    used = [*Q1, ("voucher_used", "2026-05-01T10:00:00Z", {})]
    o = run(EXPIRE_AND_USE, used, "2026-06-30")
    assert [(v["expires"], v["status"]) for v in o["vouchers"]] == [("2028-04-01", "used"), ("2028-04-01", "valid")]
    assert o["vouchers"][0]["used"] == "2026-05-01T10:00:00Z"
    # As of 31 March 2028 (its end is 1 April 2028's first instant) the unused one has expired.
    o = run(EXPIRE_AND_USE, used, "2028-03-31")
    assert [v["status"] for v in o["vouchers"]] == ["used", "expired"]


def test_a_year_that_starts_in_february_moves_the_quarters():
    # Quarters from February: November to January is one, so January's points convert at the
    # end of January; as of 30 January nothing is converted yet.
    assert run("year starts in February\n", Q1, "2026-01-30")["vouchers"] == []
    o = run("year starts in February\n", Q1, "2026-01-31")
    assert [v["issued"] for v in o["vouchers"]] == ["2026-01-31", "2026-01-31"]


def test_examples_pin_vouchers():
    program = compile_text(BASE, "vouchers.loy")
    tests = parse(
        """
test "320 points make two vouchers":
    given purchase at 2026-01-10T10:00:00Z with amount 320
    as of 2026-03-31
    expect voucher 1.50 on 2026-03-31
    expect points 320
test "140 points make none":
    given purchase at 2026-01-10T10:00:00Z with amount 140
    as of 2026-03-31
    expect voucher 1.50 on 2026-03-31
""",
        "vouchers_test.loy",
    )
    assert check_examples(tests, program) == []
    first, second = run_examples(program, tests.tests)
    assert first.failures == ()
    assert second.failures == ("line 10: expected a voucher 1.50 on 2026-03-31, got no voucher",)


def test_an_expired_voucher_is_no_longer_expected():
    program = compile_text(BASE + EXPIRE_AND_USE, "vouchers.loy")
    tests = parse(
        """
test "valid through 31 March 2028, gone as of its end":
    given purchase at 2026-01-10T10:00:00Z with amount 150
    as of 2028-03-30
    expect voucher 1.50 on 2026-03-31
test "expired":
    given purchase at 2026-01-10T10:00:00Z with amount 150
    as of 2028-03-31
    expect no voucher on 2026-03-31
test "wrong on purpose":
    given purchase at 2026-01-10T10:00:00Z with amount 150
    as of 2028-03-30
    expect no voucher on 2026-03-31
""",
        "vouchers_test.loy",
    )
    # Issued at the end of 31 March 2026, 24 months on: gone from the first instant of 1 April 2028.
    results = run_examples(program, tests.tests)
    assert [r.failures for r in results] == [(), (), ("line 13: expected no voucher on 2026-03-31, got 1 worth 1.50",)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (BASE.replace("every quarter", "every fortnight"), "E166"),
        (BASE.replace("of 150 points", "of 0 points"), "E262"),
        (BASE.replace("worth 1.50", "worth 0"), "E271"),
        (BASE.replace("convert points every quarter into vouchers of 150 points worth 1.50", EXPIRE_AND_USE), "E269"),
        (BASE + "vouchers are used by voucher_usd\n", "E101"),
        (BASE + "vouchers expire after 2 days\n", "E268"),
    ],
)
def test_check_places_voucher_mistakes(text, code):
    with pytest.raises(ProgramError) as err:
        compile_text(text, "vouchers.loy")
    assert code in [d.code for d in err.value.diagnostics]
    assert all(d.line > 1 and d.hint for d in err.value.diagnostics if d.code == code)


def test_the_supermarket_history():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "examples"
    program = compile_text((root / "programs" / "supermarket_vouchers.loy").read_text(), "supermarket.loy")
    history = read_history([str(root / "supermarket_history.jsonl")], program)
    o = {x.member: x.to_json() for x in outcomes(program, history, dt.date(2026, 9, 30))}
    # cara: 320 in Q1 -> two vouchers on 31 March, 20 stay; +100 in Q2 -> 120, none; Q3 none.
    # Her voucher_used on 1 June spends the first voucher.
    assert (o["cara"]["points"], o["cara"]["balance"]) == (420, 120)
    assert [(v["issued"], v["status"]) for v in o["cara"]["vouchers"]] == [
        ("2026-03-31", "used"),
        ("2026-03-31", "valid"),
    ]
    # dev: 150 in August -> one voucher on 30 September, valid until 1 October 2028; nothing stays.
    assert o["dev"]["balance"] == 0
    assert [(v["issued"], v["value"], v["expires"]) for v in o["dev"]["vouchers"]] == [
        ("2026-09-30", "1.50", "2028-10-01")
    ]


def test_explain_lists_each_voucher():
    from loyalty_dsl.tools.explain import explain_member
    from loyalty_dsl.tools.report import console_text, explanation_tables

    program = compile_text(BASE + EXPIRE_AND_USE, "vouchers.loy")
    records = [*Q1, ("voucher_used", "2026-05-01T10:00:00Z", {})]
    data = [orjson.dumps({"member": "m", "type": t, "at": at, **f}) + b"\n" for t, at, f in records]
    history = read_history(["-"], program, stdin=io.BytesIO(b"".join(data)))
    ex = explain_member(program, "m", history.members["m"], dt.date(2026, 6, 30)).to_json()
    # 320 points: two vouchers on 31 March; the use on 1 May spends the first.
    assert [v["status"] for v in ex["vouchers"]] == ["used", "valid"]
    text = console_text(explanation_tables(ex), width=160)
    assert "Vouchers" in text and "used 2026-05-01" in text and "2028-04-01" in text
