"""The machinery behind every self-checking exercise.

A :class:`Checker` runs a student's function on fixed cases, compares each answer with the
reference implementation from course_lib, and prints ONE deterministic line:

* ``[not done] ...`` while the function still raises ``NotImplementedError``;
* ``[pass] ...`` when every case agrees;
* ``[fail] ...`` naming the first failing case, what was expected and what came back, and a
  hint. The hint comes from a list of known mistakes: each :class:`Mistake` is a small wrong
  implementation; if the student's answer equals what that mistake produces, we know (not guess)
  what went wrong.

The checker never lets the student's exception, wrong type or wrong shape escape: it reports it,
on one line, with nothing in it that changes from run to run (no memory addresses). When numbers
differ past the digits shown, the line says by how much and where.

Grading. With the environment variable ``COURSE_LIB_GRADING=1`` a check that does not pass
prints its line and then raises :class:`ExerciseNotPassed` (an ``AssertionError``), so the
notebook's cell fails and ``pytest --nbval-lax`` fails with it. With
``COURSE_LIB_GRADING_LOG=<file>`` every check also appends its result to that file as one JSON
line (``{"exercise": ..., "status": ..., "case": ..., "message": ...}``); ``tools/grade.py``
reads it to report per student and per exercise.
"""
from __future__ import annotations

import copy
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

PASS, FAIL, NOT_DONE = "pass", "fail", "not done"
GRADING_ENV = "COURSE_LIB_GRADING"
GRADING_LOG_ENV = "COURSE_LIB_GRADING_LOG"
_MESSAGE_LIMIT = 300  # characters of a student's error text shown


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


class ExerciseNotPassed(AssertionError):
    """Raised in grading mode (``COURSE_LIB_GRADING=1``) by a check that does not pass."""


def grading() -> bool:
    """True when the environment asks for grading (``COURSE_LIB_GRADING`` = 1, true or yes)."""
    return os.environ.get(GRADING_ENV, "").strip().lower() in {"1", "true", "yes"}


def _one_line(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    """``text`` on one line, without memory addresses, at most ``limit`` characters."""
    text = re.sub(r"\s+at 0x[0-9a-fA-F]+", "", str(text))
    text = re.sub(r"0x[0-9a-fA-F]{6,}", "0x...", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value) -> str:
    """What kind of value this is, in words: 'a list of 2', 'an array of shape (3,)', 'a float'."""
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        try:
            return f"a {type(value).__name__} of {len(value)}"
        except Exception:  # a list subclass of the student's that has no length
            return f"a {type(value).__name__}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, dict):
        return "a dict"
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _format(value) -> str:
    """A short, deterministic rendering of a value (at most four numbers, 6 significant digits)."""
    if isinstance(value, (np.ndarray, list, tuple)):
        try:
            flat = np.asarray(value, dtype=np.float64).ravel()
        except Exception:
            return _describe(value)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return f"{flat[0]:.6g}"
        head = ", ".join(f"{x:.6g}" for x in flat[:4])
        return f"[{head}, ... ({flat.size} values)]" if flat.size > 4 else f"[{head}]"
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    if isinstance(value, (bool, int, np.integer, np.bool_)):
        return repr(value)
    if isinstance(value, str):
        return _one_line(repr(value), 40)
    return _describe(value)  # never a repr: it may hold a memory address


def _as_numbers(value):
    """``value`` as a float64 array, or None if numpy cannot convert it (whatever the reason)."""
    try:
        return np.asarray(value, dtype=np.float64)
    except Exception:  # e.g. a torch tensor that requires grad raises RuntimeError
        return None


def _where(index: tuple) -> str:
    if not index:
        return ""
    return f" at index {index[0]}" if len(index) == 1 else f" at index {index}"


def _difference(answer: np.ndarray, expected: np.ndarray, rtol, atol) -> str:
    """Where the answer differs most from the expected array, and by how much (one phrase)."""
    wrong = ~np.isclose(answer, expected, rtol=rtol, atol=atol, equal_nan=False)
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.where(wrong, np.abs(answer - expected), -1.0)
    gap = np.where(np.isnan(gap), np.inf, gap)  # a nan or an inf is the largest difference
    index = np.unravel_index(int(np.argmax(gap)), answer.shape) if answer.ndim else ()
    index = tuple(int(i) for i in index)
    got, want = answer[index], expected[index]
    if not (np.isfinite(got) and np.isfinite(want)):
        return f"got {got:.6g}{_where(index)}, expected {want:.6g}"
    return f"largest difference {abs(got - want):.2g}{_where(index)} (expected {want:.12g}, got {got:.12g})"


def _same(answer, expected, rtol, atol, _what="your function returned") -> tuple[bool, str | None]:
    """Compare an answer with the expected value. Returns (agrees, why-not).

    ``_what`` starts the phrase about a wrong kind of value ('item 1 is' inside a tuple).
    """
    if answer is None:
        return False, "your function returned None (is a `return` missing?)" if _what.startswith("your") \
            else f"{_what} None"
    if isinstance(expected, dict):
        if not isinstance(answer, dict):
            return False, f"{_what} {_describe(answer)}, expected a dict with keys {sorted(expected)}"
        if set(answer) != set(expected):
            return False, f"expected keys {sorted(expected)}, got {sorted(map(str, answer))}"
        for key in expected:
            ok, why = _same(answer[key], expected[key], rtol, atol, f"[{key!r}] is")
            if not ok:
                return False, why if why.startswith(f"[{key!r}] is") else f"[{key!r}] {why}"
        return True, None
    if isinstance(expected, tuple):
        wanted = f"expected a tuple of {len(expected)} values"
        if not isinstance(answer, (tuple, list)) or len(answer) != len(expected):
            return False, f"{_what} {_describe(answer)}, {wanted}"
        for i, (a, e) in enumerate(zip(answer, expected)):
            ok, why = _same(a, e, rtol, atol, f"item {i} is")
            if not ok:
                if isinstance(answer, list):  # e.g. one array returned as a list of numbers
                    return False, f"{_what} {_describe(answer)}, {wanted}"
                return False, why if why.startswith(f"item {i} is") else f"item {i}: {why}"
        return True, None
    answer_array = _as_numbers(answer)
    if answer_array is None:
        return False, f"expected numbers, got {type(answer).__name__}"
    expected_array = np.asarray(expected, dtype=np.float64)
    if answer_array.shape != expected_array.shape:
        if isinstance(answer, (tuple, list)) and expected_array.ndim:
            return False, f"{_what} {_describe(answer)}, expected one array of shape {expected_array.shape}"
        return False, f"expected shape {expected_array.shape}, got shape {answer_array.shape}"
    if not np.allclose(answer_array, expected_array, rtol=rtol, atol=atol, equal_nan=False):
        return False, (f"expected {_format(expected)}, got {_format(answer)}; "
                       f"{_difference(answer_array, expected_array, rtol, atol)}")
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
        """Check ``student`` and print one line. Returns None (nothing else to display).

        In grading mode (``COURSE_LIB_GRADING=1``) a result other than a pass then raises
        :class:`ExerciseNotPassed`; with ``COURSE_LIB_GRADING_LOG`` set, the result is logged.
        """
        result = self.evaluate(student)
        print(result.message)
        log = os.environ.get(GRADING_LOG_ENV)
        if log:
            record = {"exercise": self.title, "status": result.status, "case": result.case,
                      "message": result.message}
            with open(log, "a", encoding="utf-8") as file:
                file.write(json.dumps(record) + "\n")
        if grading() and result.status != PASS:
            raise ExerciseNotPassed(result.message)

    def evaluate(self, student: Callable) -> CheckResult:
        """Check ``student`` and return the result (the printed line is ``result.message``)."""
        if not callable(student):
            return CheckResult(FAIL, f"[fail] {self.title}: expected a function, got {type(student).__name__}.")
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # one line, always: no warning text around it
            for case in self.cases:
                try:
                    result = self._run_case(student, case)
                except Exception as error:  # the last guard: nothing the student does escapes
                    result = CheckResult(FAIL, f"[fail] {self.title}: on case '{case.name}' your answer could "
                                               f"not be checked ({type(error).__name__}).", case=case.name)
                if result is not None:
                    return result
        return CheckResult(PASS, f"[pass] {self.title}: correct on all {len(self.cases)} test cases.")

    def _run_case(self, student: Callable, case: Case) -> CheckResult | None:
        """The result of the first problem on ``case``, or None if the answer is right."""
        expected = self.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        try:
            answer = student(*args, **kwargs)
        except NotImplementedError:
            return CheckResult(NOT_DONE, f"[not done] {self.title}: replace `raise NotImplementedError` "
                                         "with your code, run that cell, then this one.")
        except (Exception, SystemExit) as error:  # the student's bug, reported, never raised
            return CheckResult(FAIL, f"[fail] {self.title}: on case '{case.name}' your function raised "
                                     f"{type(error).__name__}: {_one_line(error)}", case=case.name)
        try:
            if not _inputs_unchanged(args, kwargs, case):
                hint = "do not modify the inputs in place; build new arrays instead."
                return CheckResult(FAIL, f"[fail] {self.title}: on case '{case.name}' your function changed "
                                         f"its input. Hint: {hint}", hint=hint, case=case.name)
            ok, why = _same(answer, expected, self.rtol, self.atol)
        except Exception as error:  # an answer so odd that comparing it fails
            return CheckResult(FAIL, f"[fail] {self.title}: on case '{case.name}' your function returned "
                                     f"{_describe(answer)}, which could not be compared with the expected "
                                     f"{_describe(expected)} ({type(error).__name__}).", case=case.name)
        if ok:
            return None
        hint = self._diagnose(answer, case)
        return CheckResult(FAIL, _one_line(f"[fail] {self.title}: on case '{case.name}' {why}. Hint: {hint}", 1000),
                           hint=hint, case=case.name)

    def _diagnose(self, answer, case: Case) -> str:
        """The hint of the first known mistake whose output equals the student's answer."""
        for mistake in self.mistakes:
            try:
                wrong = mistake.implementation(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
                if _same(answer, wrong, self.rtol, self.atol)[0]:
                    return mistake.hint
            except Exception:
                continue
        return self.generic_hint


def _inputs_unchanged(args, kwargs, case: Case) -> bool:
    """True if the student's call left its (copied) inputs as they were."""
    for given, original in zip(list(args) + list(kwargs.values()), list(case.args) + list(case.kwargs.values())):
        if isinstance(original, np.ndarray) and not _equal(given, original):
            return False
        if isinstance(original, dict):
            if not isinstance(given, dict):
                return False
            for key, value in original.items():
                if isinstance(value, np.ndarray) and not _equal(given.get(key), value):
                    return False
    return True


def _equal(given, original: np.ndarray) -> bool:
    """``np.array_equal`` that also holds for arrays with nan at the same places."""
    try:
        return bool(np.array_equal(given, original, equal_nan=original.dtype.kind in "fc"))
    except Exception:
        return False
