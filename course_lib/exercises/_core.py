"""The machinery behind every self-checking exercise.

A :class:`Checker` runs a student's function on fixed cases, compares each answer with the
reference implementation from course_lib, and prints ONE deterministic line:

* ``[not done] ...`` while the function still raises ``NotImplementedError``;
* ``[pass] ...`` when every case agrees;
* ``[fail] ...`` naming the first failing case, what was expected and what came back, and a
  hint. The hint comes from a list of known mistakes: each :class:`Mistake` is a small wrong
  implementation; if the student's answer equals what that mistake produces, we know (not guess)
  what went wrong.

The checker never lets the student's exception, wrong type or wrong shape escape: it reports it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

PASS, FAIL, NOT_DONE = "pass", "fail", "not done"


@dataclass(frozen=True)
class Case:
    """One fixed input: ``args``/``kwargs`` for the student's function, and a readable name."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation, with the hint a student who made it should read."""

    hint: str
    implementation: Callable


@dataclass(frozen=True)
class CheckResult:
    status: str  # PASS, FAIL or NOT_DONE
    message: str  # the one line printed
    hint: str | None = None
    case: str | None = None


def _format(value) -> str:
    """A short, deterministic rendering of a value (at most four numbers, 6 significant digits)."""
    if isinstance(value, (np.ndarray, list, tuple)):
        try:
            flat = np.asarray(value, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            return repr(value)[:80]
        head = ", ".join(f"{x:.6g}" for x in flat[:4])
        return f"[{head}, ... ({flat.size} values)]" if flat.size > 4 else f"[{head}]"
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return repr(value)[:80]


def _same(answer, expected, rtol, atol) -> tuple[bool, str | None]:
    """Compare an answer with the expected value. Returns (agrees, why-not)."""
    if answer is None:
        return False, "your function returned None (is a `return` missing?)"
    if isinstance(expected, dict):
        if not isinstance(answer, dict):
            return False, f"expected a dict, got {type(answer).__name__}"
        if set(answer) != set(expected):
            return False, f"expected keys {sorted(expected)}, got {sorted(answer)}"
        for key in expected:
            ok, why = _same(answer[key], expected[key], rtol, atol)
            if not ok:
                return False, f"[{key!r}] {why}"
        return True, None
    if isinstance(expected, tuple):
        if not isinstance(answer, (tuple, list)) or len(answer) != len(expected):
            return False, f"expected a tuple of {len(expected)} values, got {_format(answer)}"
        for i, (a, e) in enumerate(zip(answer, expected)):
            ok, why = _same(a, e, rtol, atol)
            if not ok:
                return False, f"item {i}: {why}"
        return True, None
    try:
        answer_array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return False, f"expected numbers, got {type(answer).__name__}"
    expected_array = np.asarray(expected, dtype=np.float64)
    if answer_array.shape != expected_array.shape:
        return False, f"expected shape {expected_array.shape}, got shape {answer_array.shape}"
    if not np.allclose(answer_array, expected_array, rtol=rtol, atol=atol, equal_nan=False):
        return False, f"expected {_format(expected)}, got {_format(answer)}"
    return True, None


class Checker:
    """Checks a student's implementation of one function against course_lib's reference.

    Parameters
    ----------
    title : str
        The exercise's name, first word of every printed line.
    reference : callable
        The correct implementation (from course_lib).
    cases : sequence of Case
        Fixed inputs, easiest first (the first failure is the one reported).
    mistakes : sequence of Mistake
        Known wrong implementations and their hints, most likely first.
    generic_hint : str
        Shown when a wrong answer matches no known mistake.
    rtol, atol : float
        Tolerances of the comparison.
    """

    def __init__(self, title: str, reference: Callable, cases: Sequence[Case],
                 mistakes: Sequence[Mistake] = (), generic_hint: str = "compare your formula with the text above.",
                 rtol: float = 1e-7, atol: float = 1e-10):
        self.title = title
        self.reference = reference
        self.cases = tuple(cases)
        self.mistakes = tuple(mistakes)
        self.generic_hint = generic_hint
        self.rtol, self.atol = rtol, atol

    def __call__(self, student: Callable) -> None:
        """Check ``student`` and print one line. Returns None (nothing else to display)."""
        print(self.evaluate(student).message)

    def evaluate(self, student: Callable) -> CheckResult:
        """Check ``student`` and return the result (the printed line is ``result.message``)."""
        if not callable(student):
            return CheckResult(FAIL, f"[fail] {self.title}: expected a function, got {type(student).__name__}.")
        for case in self.cases:
            expected = self.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
            args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
            try:
                answer = student(*args, **kwargs)
            except NotImplementedError:
                return CheckResult(NOT_DONE, f"[not done] {self.title}: replace `raise NotImplementedError` "
                                             "with your code, run that cell, then this one.")
            except Exception as error:  # the student's bug, reported, never raised
                return CheckResult(FAIL, f"[fail] {self.title}: on case '{case.name}' your function raised "
                                         f"{type(error).__name__}: {error}", case=case.name)
            if not _inputs_unchanged(args, kwargs, case):
                hint = "do not modify the inputs in place; build new arrays instead."
                return CheckResult(FAIL, f"[fail] {self.title}: on case '{case.name}' your function changed "
                                         f"its input. Hint: {hint}", hint=hint, case=case.name)
            ok, why = _same(answer, expected, self.rtol, self.atol)
            if not ok:
                hint = self._diagnose(answer, case)
                return CheckResult(FAIL, f"[fail] {self.title}: on case '{case.name}' {why}. Hint: {hint}",
                                   hint=hint, case=case.name)
        return CheckResult(PASS, f"[pass] {self.title}: correct on all {len(self.cases)} test cases.")

    def _diagnose(self, answer, case: Case) -> str:
        """The hint of the first known mistake whose output equals the student's answer."""
        for mistake in self.mistakes:
            try:
                wrong = mistake.implementation(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
            except Exception:
                continue
            if _same(answer, wrong, self.rtol, self.atol)[0]:
                return mistake.hint
        return self.generic_hint


def _inputs_unchanged(args, kwargs, case: Case) -> bool:
    """True if the student's call left its (copied) inputs as they were."""
    for given, original in zip(list(args) + list(kwargs.values()), list(case.args) + list(case.kwargs.values())):
        if isinstance(original, np.ndarray) and not np.array_equal(given, original):
            return False
        if isinstance(original, dict):
            for key, value in original.items():
                if isinstance(value, np.ndarray) and not np.array_equal(given.get(key), value):
                    return False
    return True
