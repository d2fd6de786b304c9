"""One number formatter: what every table, page and message prints."""

from __future__ import annotations

import math

import pytest

from sim.analysis.numbers import format_number, format_signed, mean_pm


@pytest.mark.parametrize(("x", "text"), [
    (89527.0, "89,527"), (1234.5, "1,234"), (0.123456, "0.1235"), (12.0, "12"),
    (0.0, "0"), (math.nan, "n/a"), (None, "n/a"), (math.inf, "inf"), (-math.inf, "-inf"),
    (2.5e-6, "2.500e-06"), (3.2e8, "3.200e+08"), (-4321.0, "-4,321"),
])
def test_four_significant_figures_and_separators(x: float | None, text: str) -> None:
    assert format_number(x) == text


def test_more_digits_when_asked_and_signs_for_differences() -> None:
    assert format_number(1 / 3, 6) == "0.333333" and format_number(123456.7, 6) == "123,457"
    assert format_signed(12.0) == "+12" and format_signed(-12.0) == "-12"
    assert format_signed(0.0) == "0" and format_signed(math.nan) == "n/a"


def test_an_estimate_to_the_precision_of_its_interval() -> None:
    assert mean_pm({"mean": 150610.4, "half_width": 67.2}) == "150,610 ± 67"
    assert mean_pm({"mean": 0.2012, "half_width": 0.0123}) == "0.201 ± 0.012"
    assert mean_pm({"mean": 5.0, "half_width": 0.0}) == "5 ± 0"
    assert mean_pm({"mean": math.nan, "half_width": 1.0}) == "n/a"
