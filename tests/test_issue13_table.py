# ruff: noqa: E501  (programs written inline, one statement a fragment)
"""Each line of issue 13's table, pasted as written into a small program and run.

The figures are worked out by hand as in the tests of each construct (test_lang_for_every, test_measures,
test_tiers_on_measures, test_calendar_year, test_multipliers_caps_times, test_decisions_on_measures);
here every line is shown in one place, exactly as the table writes it.
"""

from __future__ import annotations

import datetime as dt
import io
import json

from loyalty_dsl import compile_text, outcomes, read_history
from loyalty_dsl.language.parse import parse
from loyalty_dsl.tools.testing import run_examples


def run(text, events, as_of="2026-12-31"):
    p = compile_text(text, "t.loy")
    data = "".join(json.dumps(e) + "\n" for e in events).encode()
    h = read_history(["-"], p, stdin=io.BytesIO(data))
    return {o.member: o.to_json() for o in outcomes(p, h, dt.date.fromisoformat(as_of))}


E = "event order with order: text, amount: money, miles: integer, category: text\n"


def o(at, amount=0, miles=0, order="o1", category="home", m="m"):
    return {
        "member": m,
        "type": "order",
        "at": at,
        "order": order,
        "amount": amount,
        "miles": miles,
        "category": category,
    }


L = "window lifetime, continuous\ntier T from 0 points:\n"


def test_every_line_of_the_table() -> None:
    results: list[tuple[str, bool]] = []

    def line(text: str, ok: object) -> None:
        results.append((text, bool(ok)))

    t = "earn 2 for every 1.00 of amount"
    line(t, run(E + L + f"rule r:\n    on order\n    {t}\n", [o("2026-01-05", 7.99)])["m"]["points"] == 14)
    t = "earn 10 for every 200 of amount"
    line(t, run(E + L + f"rule r:\n    on order\n    {t}\n", [o("2026-01-05", 450)])["m"]["points"] == 20)
    t = "earn 1 for every 100 of miles"
    line(t, run(E + L + f"rule r:\n    on order\n    {t}\n", [o("2026-01-05", 0, 2550)])["m"]["points"] == 25)

    S = "event stay with stay: text, nights: integer, amount: money\n"

    def s(at, stay, nights, amount, m="m"):
        return {"member": m, "type": "stay", "at": at, "stay": stay, "nights": nights, "amount": amount}

    ST = [
        s("2026-01-10T12:00:00Z", "s1", 3, 350.10),
        s("2026-01-11T12:00:00Z", "s1", 2, 100.05),
        s("2026-02-01T12:00:00Z", "s2", 1, 0.20),
    ]
    base = S + "window last 12 months, recalculated monthly\n{m}tier T from 0 points:\n{r}"
    prog = base.format(m="measure nights\n", r="rule n:\n    on stay\n    earn nights into nights\n")
    line("measure nights", run(prog, ST, "2026-03-31")["m"]["measures"] == {"nights": 6})
    line(
        "earn nights into nights",
        run(prog, ST, "2026-03-31")["m"]["measures"] == {"nights": 6}
        and run(prog, ST, "2026-03-31")["m"]["points"] == 0,
    )
    prog = base.format(m="measure spend in money\n", r="rule p:\n    on stay\n    earn amount into spend\n")
    line("measure spend in money", run(prog, ST, "2026-03-31")["m"]["measures"] == {"spend": 450.35})
    line("earn amount into spend", run(prog, ST, "2026-03-31")["m"]["measures"] == {"spend": 450.35})
    prog = base.format(m="measure stays\n", r="rule c:\n    on stay\n    earn 1 into stays\n")
    a = run(prog, ST, "2026-03-31")["m"]["measures"] == {"stays": 3}
    prog = base.format(m="measure stays\n", r="rule c:\n    on stay\n    earn 1 per stay into stays\n")
    line(
        "earn 1 into stays / earn 1 per stay into stays",
        a and run(prog, ST, "2026-03-31")["m"]["measures"] == {"stays": 2},
    )

    H = (
        S
        + "window lifetime, continuous\nmeasure nights\nmeasure stays\nmeasure spend in money\n{t}"
        + "rule n:\n    on stay\n    earn nights into nights\nrule c:\n    on stay\n    earn 1 per stay into stays\n"
        + "rule sp:\n    on stay\n    earn amount into spend\nrule b:\n    on stay\n    earn 10 for every 1.00 of amount\n"
    )
    t = "tier Gold from 40 nights or 30 stays or 75000 points:\n"
    ev = (
        [s("2026-01-01", "a", 40, 0, "a")]
        + [s(f"2026-02-{i + 1:02d}", f"b{i}", 1, 0, "b") for i in range(28)]
        + [s("2026-03-01", "b28", 1, 0, "b"), s("2026-03-02", "b29", 1, 0, "b")]
        + [s("2026-01-01", "d", 1, 7500, "d"), s("2026-01-01", "e", 39, 7499, "e")]
    )
    r = run(H.format(t=t), ev)
    line(t.strip(), [r[k]["tier"] for k in "abde"] == ["Gold", "Gold", "Gold", None])
    t2 = "tier Platinum from 60000 points and 8000 spend:\n"
    ev = [s("2026-01-01", "a", 1, 8000, "a"), s("2026-01-01", "b", 1, 7999, "b"), s("2026-01-01", "c", 40, 5999, "c")]
    r = run(H.format(t=t + t2), ev)
    line(t2.strip(), [r[k]["tier"] for k in "abc"] == ["Platinum", "Gold", "Gold"])
    B = (
        "event order with amount: money\nevent redeemed with points: integer\nwindow lifetime, continuous\nredeem points by redeemed with points\n"
        "tier Member from 0 points:\ntier Silver from 100 balance:\nrule p:\n    on order\n    earn 1 for every 1.00 of amount\n"
    )
    ev = [
        {"member": "m", "type": "order", "at": "2026-01-05", "amount": 150},
        {"member": "m", "type": "redeemed", "at": "2026-02-05", "points": 60},
    ]
    line(
        "tier Silver from 100 balance:",
        run(B, ev, "2026-01-31")["m"]["tier"] == "Silver" and run(B, ev, "2026-02-28")["m"]["tier"] == "Member",
    )

    Y = (
        E
        + "{w}\ntier Silver from 0 points:\ntier Gold from 100 points:\nrule r:\n    on order\n    earn 1 for every 1.00 of amount\n{k}"
    )
    ev = [o("2026-03-01T10:00:00Z", 60), o("2026-12-15T10:00:00Z", 50)]
    t = "window calendar year, continuous"
    r1 = run(Y.format(w=t, k=""), ev, "2026-12-15")["m"]
    r2 = run(Y.format(w=t, k=""), [*ev, o("2027-01-01T00:00:01Z", 30)], "2027-01-01")["m"]
    line(t, (r1["points"], r1["tier"], r2["points"]) == (110, "Gold", 30))
    t = "window calendar year, recalculated monthly"
    r1 = run(Y.format(w=t, k=""), ev, "2026-12-30")["m"]
    r2 = run(Y.format(w=t, k=""), ev, "2026-12-31")["m"]
    line(t, (r1["points"], r2["points"], r2["tier"]) == (60, 110, "Gold"))
    t = "keep a tier reached until 31 January after the next year"
    p = Y.format(w="window calendar year, recalculated monthly", k=t + "\n")
    line(t, run(p, ev, "2028-01-30")["m"]["tier"] == "Gold" and run(p, ev, "2028-01-31")["m"]["tier"] == "Silver")
    t = "keep a tier reached for 12 months"
    p = Y.format(w="window calendar year, continuous", k=t + "\n")
    line(t, run(p, ev, "2027-12-14")["m"]["tier"] == "Gold" and run(p, ev, "2027-12-15")["m"]["tier"] == "Silver")

    M = (
        E
        + L
        + "rule base_points:\n    on order\n    earn 1 for every 1.00 of amount\nrule shopping:\n    on order\n    earn 1 for every 1.00 of amount\n"
    )
    t = "multiply base_points by 10"
    line(t, run(M + t + "\n", [o("2026-01-06T12:00:00Z", 7.99)])["m"]["points_by_rule"]["base_points"] == 70)
    t = 'multiply shopping by 2 where category = "beauty"'
    line(
        t,
        run(M + t + "\n", [o("2026-01-06", 10, category="beauty"), o("2026-01-07", 10, order="o2")])["m"][
            "points_by_rule"
        ]["shopping"]
        == 30,
    )
    t = "multipliers of shopping do not combine: the largest applies"
    mm = 'multiply shopping by 2 where category = "beauty"\nmultiply shopping by 3 during Tuesday\n'
    line(
        t,
        run(M + mm, [o("2026-01-06T12:00:00Z", 10, category="beauty")])["m"]["points_by_rule"]["shopping"] == 60
        and run(M + mm + t + "\n", [o("2026-01-06T12:00:00Z", 10, category="beauty")])["m"]["points_by_rule"][
            "shopping"
        ]
        == 30,
    )
    C = E + L + "rule r:\n    on order\n    earn 1 for every 1.00 of amount\n    {c}\n{x}"
    t = "cap 300 per order"
    line(
        t,
        run(C.format(c=t, x=""), [o("2026-01-05", 200), o("2026-01-06", 200), o("2026-01-05", 50, order="o2")])["m"][
            "points"
        ]
        == 350,
    )
    t = "cap 75000 per ticket, after multipliers"
    TK = (
        "event flight with ticket: text, fare: money\n"
        + L
        + "rule miles:\n    on flight\n    earn 5 for every 1.00 of fare\n    {c}\nmultiply miles by 2\n"
    )
    fl = [{"member": "m", "type": "flight", "at": "2026-01-05", "ticket": "t1", "fare": 10000}]
    line(
        t,
        run(TK.format(c=t), fl)["m"]["points"] == 75000
        and run(TK.format(c="cap 75000 per ticket"), fl)["m"]["points"] == 100000,
    )
    D = E + L + "rule r:\n    on order\n    {d}\n    earn 1 for every 1.00 of amount\n"
    ev = [
        o("2026-01-06T17:00:00Z", 10, order="a"),
        o("2026-01-07T17:00:00Z", 10, order="b"),
        o("2026-01-06T19:00:00Z", 10, order="c"),
    ]
    ok = (
        run(D.format(d="during Tuesday"), ev)["m"]["points"] == 20
        and run(D.format(d="during 16:00 to 18:00"), ev)["m"]["points"] == 20
        and run(D.format(d="during Tuesday 16:00 to 18:00"), ev)["m"]["points"] == 10
        and run(M + "multiply shopping by 2 during Tuesday 16:00 to 18:00\n", ev)["m"]["points_by_rule"]["shopping"]
        == 40
    )
    line("during Tuesday / during 16:00 to 18:00 / during Tuesday 16:00 to 18:00", ok)

    G = (
        S
        + "event request with ask: text\nevent redeemed with points: integer\nwindow lifetime, continuous\nredeem points by redeemed with points\n"
        "measure nights\nmeasure spend in money\nbenefit ba\nbenefit bb\nbenefit bc\ntier T from 0 points:\n    ba\n    bb\n    bc\n"
        "rule n:\n    on stay\n    earn nights into nights\nrule sp:\n    on stay\n    earn amount into spend\n"
        "rule p:\n    on stay\n    earn 1 for every 10.00 of amount\n"
        "decide ba on request for its ask:\n    grant when balance >= 9\ndecide bb on request for its ask:\n    grant when nights >= 10\n"
        "decide bc on request for its ask:\n    grant when spend >= 350\n"
    )
    ev = [
        s("2026-01-05", "s1", 6, 256.28),
        {"member": "m", "type": "request", "at": "2026-01-10", "ask": "a1"},
        s("2026-02-01", "s2", 1, 0.20),
        s("2026-02-02", "s3", 3, 93.52),
        {"member": "m", "type": "redeemed", "at": "2026-02-06", "points": 30},
        {"member": "m", "type": "request", "at": "2026-02-10", "ask": "a2"},
    ]
    d = [(x["benefit"], x["ask"], x["granted"]) for x in run(G, ev)["m"]["decisions"]]
    line(
        "grant when balance >= 9 / grant when nights >= 10 / grant when spend >= 350",
        d
        == [
            ("ba", "a1", True),
            ("bb", "a1", False),
            ("bc", "a1", False),
            ("ba", "a2", False),
            ("bb", "a2", True),
            ("bc", "a2", True),
        ],
    )
    X = (
        'test "x":\n    given stay at 2026-01-05T12:00:00Z with stay "s1", nights 6, amount 256.28\n'
        '          stay at 2026-02-01T12:00:00Z with stay "s2", nights 6, amount 93.72\n'
        "          redeemed at 2026-02-06T12:00:00Z with points 20\n    as of 2026-02-28\n"
        "    expect nights 12\n    expect spend 350.00\n    expect balance 14\n"
    )
    (res,) = run_examples(compile_text(G, "g.loy"), parse(X, "g_test.loy").tests)
    line("expect nights 12 / expect spend 350.00 / expect balance 40 (here: balance 14)", res.passed)
    assert [text for text, ok in results if not ok] == []
    assert len(results) == 23
