"""flopcast's medians against Cottier et al. 2024's amortized method (Epoch AI's public code, re-implemented
independently in tests/reference/cottier2024_method.py) on every model that method can cost."""

import pytest
from conftest import ROOT

pytest.importorskip("pandas")
pytestmark = pytest.mark.slow  # the method's costs for every model it can cost (about 2 s)


@pytest.fixture(scope="module")
def comparison(db):
    from reference.compare_cottier import compare

    return compare(db)


def test_at_least_95_percent_within_1_5x(comparison):
    df, s = comparison
    # every model the method costs that is not a fine-tune (the method adds a base model's whole cost to a
    # fine-tune's; flopcast costs the fine-tune's own compute)
    assert s["compared"] >= 290
    assert s["share_within"] >= 0.95, df[~df["within"] & ~df["finetune"]][["model", "ratio"]]
    # with every input at its central value flopcast reproduces the method: the median ratio is 1 within 1%
    assert s["median_central_ratio"] == pytest.approx(1.0, abs=0.01)


def test_the_comparison_is_recorded_in_docs_validation_md(comparison):
    from reference.compare_cottier import MARKER, render

    df, s = comparison
    text = (ROOT / "docs" / "validation.md").read_text()
    assert MARKER in text
    assert MARKER + text.split(MARKER, 1)[1] == render(df, s), (
        "docs/validation.md is stale: python tests/reference/compare_cottier.py"
    )
