"""Every error code of a program, with its one meaning.

A code names one kind of problem, so that scripts, editors and tests can match
on it rather than on words; `tests/test_codes.py` requires every code raised
in the package to be here, every code here to be raised, and each to have a
case in `tests/cases/broken/`. Lint warnings have their own table (`lint.CODES`).
"""

from __future__ import annotations

PROGRAM_CODES: dict[str, str] = {
    # the text
    "E001": "a syntax error",
    "E002": "a condition nested too deep",
    "E003": "a program that is not UTF-8 text",
    # names
    "E101": "an unknown event type",
    "E102": "a name declared twice",
    "E103": "an unknown benefit",
    "E104": "a field that the event does not have",
    "E105": "an unknown fact",
    "E106": "an unknown rule",
    # settings and the window
    "E110": "an unknown time zone",
    "E111": "no window",
    "E112": "more than one window",
    "E113": "a window length that is not a whole number of months",
    "E114": "a rolling window in a unit other than months",
    "E115": "a recalculation other than monthly",
    "E116": "no tier",
    "E117": "a setting declared more than once",
    "E118": "an unknown day of the week",
    "E119": "an unknown month (in `during`, an unknown month or day of the week)",
    # events and facts
    "E120": "a declared field that every event already has",
    "E121": "an unknown field or parameter type",
    "E122": "a default of the wrong type",
    "E123": "`at least` on a field that is not a number",
    "E130": "a fact's subject that an establishing event does not carry",
    "E131": "a fact said of values of different types",
    # tiers and benefits
    "E140": "a tier threshold that is not a whole number (or, of a money measure, an amount) 0 or more",
    "E141": "tiers out of order",
    "E142": "an unknown benefit parameter",
    "E143": "a benefit parameter value of the wrong type",
    "E144": "a benefit parameter left out",
    "E147": "`per` on an amount (it groups by distinct values)",
    "E148": "`once` without `per`",
    # rules
    "E150": "points that are not a whole number",
    "E151": "an amount earned from a field of the wrong type (an integer for points and counts)",
    "E152": "a `per` key that is neither a period nor a field",
    "E153": "`beyond the first` without `per`",
    "E154": "a cap that is not a whole number of points",
    "E155": "an unknown cap period",
    "E156": "two caps on the same period",
    "E157": "caps on periods that do not nest",
    "E158": "a threshold without `per`",
    "E159": "a threshold count that is not a whole number",
    "E247": "a threshold sum over a field that is not a number",
    # dated grants
    "E160": "a date taken from a field that is not a date",
    "E161": "a notice that is not a whole number of days",
    "E162": "a notice in a unit other than days",
    "E163": "a leap-day rule for a day other than 29 February",
    "E164": "29 February moved to a day other than 28 February or 1 March",
    # spendable points
    "E165": "an expiry that is not a whole number",
    "E166": "an unknown expiry unit or period",
    "E167": "points redeemed from a field that is not an integer",
    "E241": "`points expire` declared twice",
    # E242 (a second `redeem points` statement) is retired: a program may redeem by several event types
    "E268": "an expiry counted in whole months written in another unit",
    # redemption rules
    "E260": "a redemption asking both a fixed number and a field",
    "E261": "a redemption that says neither a fixed number nor a field",
    "E262": "a redemption or voucher figure that is not a whole number of points, 1 or more",
    "E263": "a number after a redemption option other than `in sizes`",
    "E264": "redemption sizes that do not go up",
    "E265": "`at least` above `at most`",
    "E266": "multiples that no claim can meet",
    "E267": "an event field named like a name of every redemption's `where`",
    "E272": "two `redeem` statements on one event type",
    "E275": "a redemption waiting on a decision that its event type never gets",
    # vouchers
    "E269": "a voucher statement without `convert points`",
    "E270": "`convert points` in a program without rules",
    "E271": "a voucher worth nothing",
    "E273": "a voucher statement written twice",
    "E274": "an event type that both redeems points and uses vouchers",
    # campaigns
    "E168": "a day that does not exist",
    "E169": "a campaign that ends before it starts",
    # currencies
    "E170": "a currency on a field that is not an amount",
    "E171": "a currency named by a field that is not text",
    "E172": "currencies without the program's own",
    "E173": "a rate that is not above 0",
    "E174": "a rate for the program's own currency",
    # retention, vesting, multipliers
    "E175": "a construct that the program's kind of window does not allow",
    "E176": "a grace period that is not a whole number of months",
    "E245": "an unknown unit or period of tier retention",
    "E240": "a kind of tier retention declared twice",
    "E213": "a tier kept for months that are not a whole number, 1 or more",
    "E177": "vesting that is not a whole number of days",
    "E246": "vesting in a unit other than days",
    "E178": "a multiplier factor that is not above 0",
    "E179": "an unknown tier",
    # conditions and figures
    "E180": "values of two types compared",
    "E181": "an order comparison of values that have no order",
    "E182": "a field compared with a value of another type",
    "E183": "a list value of the wrong type",
    "E184": "a yes/no test of a field that is not boolean",
    "E185": "an impossible date",
    "E186": "a number too large to be exact",
    "E187": "a duration beyond what the calendar holds (years 1 to 9999)",
    "E188": "a rule or decision reading `member` or `id`",
    # decisions
    "E243": "a decision key named like a key of every decision",
    "E244": "a name that is both an event field and a benefit parameter",
    # points per amount, and measures beside points
    "E201": "`for every` paying points from a field rather than a whole number",
    "E202": "a `for every` step that is not above 0",
    "E203": "`for every` over a field that is not a number",
    "E204": "`into` an unknown measure",
    "E205": "a measure named like one every program has (points, balance)",
    "E206": "an unknown unit of a measure",
    "E207": "a measure no rule earns into",
    "E208": "an unknown measure in a tier's qualification",
    "E209": "a tier on the balance in a program that keeps no spendable points",
    "E210": "caps of one rule that count multiplied points and caps that do not",
    # local times of day
    "E211": "a time of day that does not exist",
    "E212": "a time range that ends when it starts",
    # examples files
    "E190": "a statement other than `test` in an examples file",
    "E191": "an `as of` that is not a day",
    "E192": "an example naming something the program does not have",
    "E193": "an example repeating an event too many times",
    "E249": "an examples file whose program is missing or broken (shown by the language server)",
    # the tool itself
    "E900": "the formatter would change the program's meaning (a bug to report)",
}
