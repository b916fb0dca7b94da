"""Why a history line is rejected: a stable code for each kind of reason, beside the words.

Scripts and tests match rejected lines on these codes, which never change meaning, while the
words that follow them may be improved. Codes are `H` and three digits, grouped by what fails:
H0xx the line itself (its bytes, JSON or CSV), H1xx the fields every event has (member, type,
id, at), H2xx the fields a program declares for the event's type.
"""

from __future__ import annotations

REJECTIONS: dict[str, str] = {
    "H001": "a line longer than the reader takes",
    "H002": "a line that is not valid JSON",
    "H003": "a line (or an API record) that is not an object",
    "H004": "a CSV row that is not valid CSV (a quote never closed)",
    "H005": "a CSV row that is not valid UTF-8 text (in JSON Lines such bytes are H002)",
    "H006": "a CSV row with another number of columns than the header",
    "H101": "a required field (member, type, at) is missing",
    "H102": "member or type is not text",
    "H103": "member or type is empty",
    "H104": "id is neither text nor a whole number",
    "H110": "at is not an ISO-8601 instant",
    "H111": "at names an impossible date or time",
    "H112": "at lies outside years 1 to 9999 (in UTC, or in the program's time zone)",
    "H113": "at is a value the columnar file cannot give (Parquet)",
    "H201": "a field the program declares is missing",
    "H202": "a declared field has a value of another type",
    "H203": "a declared field is below its least value",
    "H204": "an amount is in a currency the rates do not name",
}


class Rejected(Exception):
    """One line's rejection: its code (one of REJECTIONS) and the reason in words."""

    def __init__(self, code: str, reason: str) -> None:
        assert code in REJECTIONS, code
        super().__init__(reason)
        self.code = code
        self.reason = reason
