"""loyalty-dsl: loyalty programs as readable text, evaluated over activity histories."""

from loyalty_dsl.api import Evaluation, check_text, evaluate
from loyalty_dsl.columnar_plan import NotColumnar
from loyalty_dsl.compile import CompiledProgram, compile_text, load
from loyalty_dsl.diagnostics import Diagnostic, ProgramError
from loyalty_dsl.evaluate import Outcome, evaluate_member
from loyalty_dsl.history import History, read_history
from loyalty_dsl.run import outcomes

__version__ = "0.1.0"

__all__ = [
    "CompiledProgram",
    "Diagnostic",
    "Evaluation",
    "History",
    "NotColumnar",
    "Outcome",
    "ProgramError",
    "check_text",
    "compile_text",
    "evaluate",
    "evaluate_member",
    "load",
    "outcomes",
    "read_history",
]
