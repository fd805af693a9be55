"""docs/uncertainty.md and docs/conventions.md: their examples run as doctests (the distributions, the draws, the
closed form, the sensitivity, an estimate and the counting conventions, each with the output it prints), and the counts
uncertainty.md's prose quotes are the code's."""

import doctest
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "uncertainty.md"


def test_the_examples_print_what_the_docs_show():
    result = doctest.testfile(
        str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted >= 20 and result.failed == 0, result


def test_the_closed_forms_it_counts(db):
    # "a reported compute (training_compute_flop, N models of the snapshot), reported chip-hours (M)": the batch's
    # outputs whose summary is exact (a lognormal passed through, Summary.dist set)
    from flopcast.service import cost_table

    text = " ".join(DOC.read_text().split())
    m = re.search(r"\(`training_compute_flop`, (\d+) models of the snapshot\), reported chip-hours \((\d+)\)", text)
    assert m
    res = cost_table(db=db, samples=256).result
    exact_compute = sum(e.training_compute_flop.dist is not None for e in res.estimates)
    exact_hours = sum(e.chip_hours is not None and e.chip_hours.dist is not None for e in res.estimates)
    assert (int(m.group(1)), int(m.group(2))) == (exact_compute, exact_hours)


def test_docs_conventions_md_examples_pass():
    # the counting conventions' hand-computed GPT-3 figures (docs/conventions.md, "Python API")
    result = doctest.testfile(
        str(DOC.parent / "conventions.md"), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert result.attempted >= 6 and result.failed == 0, result
