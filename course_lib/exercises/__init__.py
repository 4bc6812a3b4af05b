"""Self-checking exercises: one module of checkers per chapter, on shared machinery.

``from course_lib.exercises.ewma import check_ewma`` and call ``check_ewma(your_function)``:
it prints one line (``[pass]``, ``[fail] ... Hint: ...`` or ``[not done]``).
"""
from course_lib.exercises._core import Case, Checker, CheckResult, Mistake

__all__ = ["Case", "Checker", "CheckResult", "Mistake"]
