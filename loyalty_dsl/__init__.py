"""loyalty-dsl: loyalty programs as readable text, evaluated over activity histories."""

from loyalty_dsl.api import Evaluation, check_text, evaluate
from loyalty_dsl.columnar.plan import NotColumnar
from loyalty_dsl.evaluation.compile import CompiledProgram, compile_text, load
from loyalty_dsl.evaluation.evaluate import Outcome, evaluate_member
from loyalty_dsl.evaluation.run import outcomes
from loyalty_dsl.io.history import History, read_history
from loyalty_dsl.language.diagnostics import Diagnostic, ProgramError

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
