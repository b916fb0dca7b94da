"""The parser: program text -> typed AST, positions, and syntax errors in words."""

from __future__ import annotations

import pytest

from loyalty_dsl.language import ast
from loyalty_dsl.language.diagnostics import ProgramError
from loyalty_dsl.language.parse import parse

HEAD = "window lifetime, continuous\n"


def rule_of(text: str) -> ast.RuleDecl:
    return parse(HEAD + text).rules[0]


def test_rule_with_condition_earn_and_cap():
    rule = rule_of(
        "rule shopping: on order_confirmed where amount >= 2.00 and order is not voided earn 5 cap 5 per day"
    )
    assert rule.name == ast.Name("shopping")
    assert rule.on == ast.Name("order_confirmed")
    assert rule.where == ast.And(
        ast.Compare(ast.Name("amount"), ">=", ast.Literal(2.0, "number", "2.00")),
        ast.FactTest(ast.Name("order"), ast.Name("voided"), negated=True),
    )
    assert rule.earn == ast.Earn(ast.Literal(5, "number", "5"), (), beyond_first=False)
    assert rule.caps == (ast.Cap(ast.Literal(5, "number", "5"), ast.Name("day")),)


def test_earn_per_keys_beyond_the_first_and_once():
    earn = rule_of("rule c: on order_confirmed earn 1 per category per day beyond the first").earn
    assert [k.text for k in earn.per] == ["category", "day"]
    assert earn.beyond_first
    once = rule_of("rule r: on review earn 1 once per order").earn
    assert [k.text for k in once.per] == ["order"] and not once.beyond_first


def test_earn_from_a_field():
    assert rule_of("rule b: on bonus earn points").earn.amount == ast.Name("points")


def test_and_binds_tighter_than_or_and_not_applies_to_one_condition():
    cond = rule_of("rule x: on e where a = 1 or b = 2 and not c earn 1").where
    assert isinstance(cond, ast.Or)
    assert isinstance(cond.right, ast.And)
    assert cond.right.right == ast.Not(ast.FieldTest(ast.Name("c")))


def test_membership_and_strings():
    cond = rule_of('rule x: on e where category not in ["toys", "home \\"deco\\""] earn 1').where
    assert cond == ast.MemberOf(
        ast.Name("category"),
        (ast.Literal("toys", "string", '"toys"'), ast.Literal('home "deco"', "string", '"home \\"deco\\""')),
        negated=True,
    )


def test_equals_is_one_operator_spelt_two_ways():
    a = rule_of("rule x: on e where a = 1 earn 1").where
    b = rule_of("rule x: on e where a == 1 earn 1").where
    assert a == b


def test_spans_point_at_the_source():
    text = HEAD + "rule shopping:\n    on order_confirmed where amount >= 2\n    earn 5\n"
    rule = parse(text, "p.loy").rules[0]
    assert (rule.on.span.file, rule.on.span.line, rule.on.span.col) == ("p.loy", 3, 8)
    assert rule.span.line == 2


def test_spans_are_not_part_of_equality():
    assert parse(HEAD + "event visit") == parse("\n\n" + HEAD + "\n   event    visit\n")


def test_declarations():
    p = parse(
        'program "demo"\ntimezone "Europe/Paris"\n'
        "event bonus with points: integer at least 0, campaign: text optional, vip: boolean default false\n"
        "an order is voided by order_returned or order_fraud\n"
        "window last 12 months, recalculated monthly\n"
        "benefit fast_refund with limit: money\n"
        "tier Gold from 101 points: fast_refund (limit 24) perk\n"
        "grant perk every year on the birthday of the latest profile_updated, known at least 2 days before,"
        " at most once a year, 29 February falls on 1 March\n"
        "decide fast_refund on refund_requested for its order: grant when amount <= limit\n"
    )
    assert p.title == "demo" and p.timezone is not None and p.timezone.value == "Europe/Paris"
    fields = p.events[0].fields
    assert [(f.name.text, f.type.text, f.optional) for f in fields] == [
        ("points", "integer", False),
        ("campaign", "text", True),
        ("vip", "boolean", False),
    ]
    assert fields[2].default == ast.Literal(False, "boolean", "false")
    assert fields[0].at_least is not None and fields[0].at_least.value == 0
    assert p.facts[0] == ast.FactDecl(
        ast.Name("order"), ast.Name("voided"), (ast.Name("order_returned"), ast.Name("order_fraud"))
    )
    assert isinstance(p.windows[0], ast.RollingWindow) and p.windows[0].length.value == 12
    tier = p.tiers[0]
    assert tier.threshold.value == 101
    assert [b.name.text for b in tier.benefits] == ["fast_refund", "perk"]
    grant = p.grants[0]
    assert (grant.date.text, grant.which, grant.once_a_year) == ("birthday", "latest", True)
    assert grant.notice is not None and grant.notice.amount.value == 2
    assert grant.leap_day is not None and grant.leap_day.to_month.text == "March"
    d = p.decisions[0]
    assert d.key == ast.Name("order") and isinstance(d.when, ast.Compare)


def test_tier_without_benefits_and_decision_without_condition():
    p = parse(HEAD + "tier A0 from 0 points:\ntier A1 from 1 point: perk\ndecide perk on claim_escalated\n")
    assert p.tiers[0].benefits == ()
    assert p.decisions[0].when is None and p.decisions[0].key is None


def test_assumptions_are_kept_with_their_statement():
    p = parse(
        HEAD
        + "# assumption: ten a month\nrule visit: on visit earn 1 per day  # a plain comment\n"
        + "tier Gold from 800 points: perk  # assumption: 800 splits the range\n"
        + 'event e with note: text # "# assumption: inside a string" is not one\n'
    )
    assert [(a.text, a.about, a.span.line) for a in p.assumptions] == [
        ("ten a month", "rule visit", 2),
        ("800 splits the range", "tier Gold", 4),
    ]


def test_keywords_are_not_names():
    with pytest.raises(ProgramError) as err:
        parse(HEAD + "rule x: on e where amount >=\n    earn 5\n")
    (d,) = err.value.diagnostics
    assert (d.line, d.col) == (3, 5)
    assert "after `>=`" in d.message and "a number" in d.message


def test_end_of_input_is_reported_at_the_real_end():
    with pytest.raises(ProgramError) as err:
        parse(HEAD + "rule visit: on visit")
    (d,) = err.value.diagnostics
    assert (d.line, d.col) == (2, 21)
    assert "ends too early" in d.message and "`earn`" in d.message
