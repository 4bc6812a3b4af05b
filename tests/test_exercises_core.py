"""The checker machinery (course_lib/exercises/_core.py) on its own, with a small made-up exercise:
messages that explain (the largest difference and where, the wrong container named), one line
always and the same line every run, no exception ever escaping, and the grading mode."""
import json
import subprocess
import sys

import numpy as np
import pytest

from course_lib.exercises._core import (GRADING_ENV, GRADING_LOG_ENV, Case, Checker, ExerciseNotPassed, Mistake,
                                        grading)


def _scale_and_shift(x, a):
    return x * a, x + a


def _scale(x, a):
    return x * a


X = np.array([0.5, -1.25, 2.0, 3.0])
check_pair = Checker("scale_and_shift", _scale_and_shift, [Case("a = 2", (X, 2.0)), Case("a = -3", (X, -3.0))],
                     mistakes=[Mistake("shift, not scale, comes second.", lambda x, a: (x * a, x - a))])
check_one = Checker("scale", _scale, [Case("a = 2", (X, 2.0))])


def test_a_correct_answer_passes_and_a_list_for_a_tuple_is_accepted():
    assert check_pair.evaluate(_scale_and_shift).status == "pass"
    assert check_pair.evaluate(lambda x, a: [x * a, x + a]).status == "pass"
    assert check_one.evaluate(lambda x, a: list(x * a)).status == "pass"


def test_numbers_equal_to_the_shown_digits_get_the_largest_difference_and_where():
    result = check_one.evaluate(lambda x, a: x * a + np.array([0, 0, 3e-6, 1e-6]))
    assert result.status == "fail"
    assert "expected [1, -2.5, 4, 6], got [1, -2.5, 4, 6]" in result.message
    assert "largest difference 3e-06 at index 2 (expected 4, got 4.000003)" in result.message


def test_the_largest_difference_of_a_matrix_is_located_by_its_index():
    check = Checker("outer", np.outer, [Case("2 x 3", (np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0])))])
    result = check.evaluate(lambda u, v: np.outer(u, v) + np.array([[0, 0, 0], [0, 0.5, 0]]))
    assert "largest difference 0.5 at index (1, 1) (expected 4, got 4.5)" in result.message


def test_a_nan_is_named_where_it_is():
    result = check_one.evaluate(lambda x, a: np.where(x > 2.5, np.nan, x * a))
    assert "got nan at index 3, expected 6" in result.message


def test_the_wrong_container_is_named():
    assert "your function returned a list of 2, expected a tuple of 2 values" in \
        check_pair.evaluate(lambda x, a: [1.0, 2.0]).message
    assert "your function returned an array of shape (4,), expected a tuple of 2 values" in \
        check_pair.evaluate(lambda x, a: x * a).message
    assert "your function returned a tuple of 3, expected a tuple of 2 values" in \
        check_pair.evaluate(lambda x, a: (x * a, x + a, x)).message
    assert "your function returned a tuple of 2, expected one array of shape (4,)" in \
        check_one.evaluate(lambda x, a: (x * a, x)).message
    assert "item 1 is a tuple of 2, expected one array of shape (4,)" in \
        check_pair.evaluate(lambda x, a: (x * a, (x, x))).message
    assert "item 1: expected shape (4,), got shape (2, 4)" in \
        check_pair.evaluate(lambda x, a: (x * a, np.stack([x, x]))).message


def test_a_dict_answer_is_compared_by_key():
    check = Checker("stats", lambda x: {"mean": x.mean(), "max": x.max()}, [Case("X", (X,))])
    assert check.evaluate(lambda x: {"mean": x.mean(), "max": x.max()}).status == "pass"
    assert "your function returned a tuple of 2, expected a dict with keys ['max', 'mean']" in \
        check.evaluate(lambda x: (x.mean(), x.max())).message
    assert "['max'] expected 3, got 2" in check.evaluate(lambda x: {"mean": x.mean(), "max": 2.0}).message


def test_a_known_mistake_gets_its_hint():
    result = check_pair.evaluate(lambda x, a: (x * a, x - a))
    assert result.status == "fail" and result.hint == "shift, not scale, comes second."
    assert result.case == "a = 2" and result.message.endswith("Hint: shift, not scale, comes second.")


class Weird:
    """An answer numpy cannot turn into numbers; its repr has a memory address."""


def requires_grad(x, a):
    import torch  # imported here: the subprocess test below stays fast

    return torch.tensor(x * a, requires_grad=True)


def raises_multiline(x, a):
    raise ValueError("first line\nsecond line\n\tthird")


def raises_with_address(x, a):
    raise TypeError(f"cannot use {Weird()} here")


def exits(x, a):
    sys.exit(3)


class BadLength(list):
    def __len__(self):
        raise RuntimeError("no length")


@pytest.mark.parametrize("student, expected", [
    (requires_grad, "expected numbers, got Tensor"),
    (lambda x, a: Weird(), "expected numbers, got Weird"),
    (lambda x, a: (Weird(), Weird()), "item 0: expected numbers, got Weird"),
    (raises_multiline, "raised ValueError: first line second line third"),
    (raises_with_address, "raised TypeError: cannot use <test_exercises_core.Weird object> here"),
    (exits, "raised SystemExit: 3"),
    (lambda x, a: BadLength([1, 2]), "which could not be compared"),
    (lambda x, a: "text\nwith lines", "expected numbers, got str"),
    (lambda *a, **k: None, "your function returned None"),
])
def test_odd_answers_are_reported_on_one_line_without_addresses(student, expected):
    for check in (check_one, check_pair):
        result = check.evaluate(student)
        assert result.status == "fail", result
        assert "\n" not in result.message and "0x" not in result.message, result.message
    assert expected in check_one.evaluate(student).message or expected in check_pair.evaluate(student).message


def test_no_warning_text_around_the_line(capsys):
    check_one(lambda x, a: np.log(x - 10) * 0)  # nan from log of negatives, warnings silenced
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and out.startswith("[fail] scale:") and err == ""


def test_messages_are_the_same_in_another_process():
    """Deterministic: nothing run-dependent (addresses, ids, timings) in what is printed."""
    code = ("import numpy as np, test_exercises_core as t\n"
            "for s in (t.raises_with_address, lambda x, a: t.Weird(), lambda x, a: x * a + 1e-5):\n"
            "    print(t.check_one.evaluate(s).message)\n")
    run = lambda: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 cwd=__file__.rsplit("/", 1)[0]).stdout
    first = run()
    assert first == run() and first.count("[fail]") == 3


def test_not_done_and_a_non_function():
    def stub(x, a):
        raise NotImplementedError("Exercise: replace this line with your code.")
    assert check_one.evaluate(stub).status == "not done"
    assert check_one.evaluate(None).message == "[fail] scale: expected a function, got NoneType."


# --- grading ------------------------------------------------------------------------------------

def test_without_grading_a_failure_only_prints(monkeypatch, capsys):
    monkeypatch.delenv(GRADING_ENV, raising=False)
    assert not grading()
    assert check_one(lambda x, a: x) is None
    assert capsys.readouterr().out.startswith("[fail] scale:")


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_in_grading_mode_a_failure_or_not_done_raises_a_pass_does_not(monkeypatch, capsys, value):
    monkeypatch.setenv(GRADING_ENV, value)
    assert grading()
    check_one(_scale)
    with pytest.raises(ExerciseNotPassed, match=r"^\[fail\] scale: on case 'a = 2'"):
        check_one(lambda x, a: x)

    def stub(x, a):
        raise NotImplementedError
    with pytest.raises(AssertionError, match=r"^\[not done\] scale"):
        check_one(stub)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["[pass]", "[fail]", "[not"]


def test_the_grading_log_records_every_check(monkeypatch, tmp_path):
    log = tmp_path / "log.jsonl"
    monkeypatch.delenv(GRADING_ENV, raising=False)
    monkeypatch.setenv(GRADING_LOG_ENV, str(log))
    check_one(_scale)
    check_pair(lambda x, a: (x * a, x - a))
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["exercise"], r["status"], r["case"]) for r in records] == [
        ("scale", "pass", None), ("scale_and_shift", "fail", "a = 2")]
    assert records[1]["message"].endswith("Hint: shift, not scale, comes second.")
