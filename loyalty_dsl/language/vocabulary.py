"""The language's own words and limits, in one place: every stage reads them from here."""

from __future__ import annotations

FIELD_TYPES = ("text", "integer", "number", "money", "date", "boolean")
NUMERIC = frozenset({"integer", "number", "money"})
BUILTIN_FIELDS = ("member", "type", "at", "id")  # every event has them; none is declared

PERIODS = ("day", "week", "month", "quarter", "year")
CAP_PERIODS = (*PERIODS, "window")
EXPIRY_UNITS = ("day", "days", "month", "months")
REDEEM_WHERE_NAMES = {"points": "integer", "balance": "integer"}  # what a redemption's `where` sees
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# The largest whole number every reader keeps exact (a JSON double's 53 bits): figures in
# programs and whole numbers in histories are refused beyond it.
MAX_EXACT = 2**53 - 1
# An instant later than any a calendar of years 1 to 9999 holds: "never" for an expiry or a
# step, and "whenever" for a status settled with no instant in view.
NEVER = 1 << 62
