"""A scripted sweep of bad input over every command: each option of each command gets bad values of its kind
(negative, zero, fractional where whole, huge, tiny, infinite, NaN, not a number, an interval written backwards,
unknown names, bad years, empty, very long and Unicode strings), run in-process.

Each case must end in exit status 2 with exactly one line on stderr that starts ``error: ``, nothing on stdout,
no traceback and no warning, and no file written; or, where the input is valid after all (listed in ``VALID``),
exit status 0 with no traceback and no warning. The table is built below from the kinds of bad value and each
command's options; ``docs/hardening.md`` says what it covers.

Left out, as other parts of the same hardening work: outputs that cannot be written (``--out``, ``--plot``),
``data pull`` and ``serve``. ``mfu measure`` is swept only where it stops before training a model.
"""

from __future__ import annotations

import warnings

import pytest

from flopcast.testing import run_cli as run

pytestmark = pytest.mark.slow  # about 1,150 commands in-process (about a minute on two cores)

LONG_NUMBER = "9" * 3000
LONG_NAME = "x" * 3000

#: an option that takes a number or a 90% interval low..high (parsed by the CLI, checked by the service)
NUMBER = [
    ("negative", "-1"),
    ("zero", "0"),
    ("overflow", "1e400"),
    ("inf", "inf"),
    ("-inf", "-inf"),
    ("nan", "nan"),
    ("word", "abc"),
    ("empty", ""),
    ("backwards", "5..1"),
    ("half interval", "1.."),
    ("three dots", "1...2"),
    ("long", LONG_NUMBER),
    ("circled digit", "\u2460"),
    ("zero-width space", "1e9\u200b"),
    ("denormal", "1e-320"),
    ("huge", "1e300"),
]
#: an option typed as a whole number (typer's int)
WHOLE = [
    ("negative", "-1"),
    ("fraction", "1.5"),
    ("word", "abc"),
    ("empty", ""),
    ("huge", "9" * 30),
    ("inf", "inf"),
    ("circled digit", "\u2460"),
]
#: an option that is a year
YEAR = [
    ("far future", "99999"),
    ("before 1950", "1949"),
    ("after 2100", "2101"),
    ("negative", "-2020"),
    ("zero", "0"),
    ("fraction", "2020.5"),
    ("word", "abc"),
]
#: an option (or argument) that is a name: a model, a chip, a method, a choice
NAME = [
    ("unknown", "zzz"),
    ("empty", ""),
    ("long", LONG_NAME),
    ("emoji", "\U0001f4a5"),
    ("newline", "a\nb"),
    ("path", "../../etc/passwd"),
    ("right-to-left override", "\u202egpt-3"),
]
#: an option typed as a real number (typer's float)
REAL = [
    ("word", "abc"),
    ("empty", ""),
    ("nan", "nan"),
    ("inf", "inf"),
    ("negative", "-1"),
    ("zero", "0"),
    ("overflow", "1e400"),
]
KINDS = {"number": NUMBER, "whole": WHOLE, "year": YEAR, "name": NAME, "real": REAL}

EST = ["--params", "175e9", "--tokens", "300e9", "--hardware", "a100", "--samples", "200"]
#: (label, a valid command, {kind: options swept with every bad value of that kind})
COMMANDS = [
    (
        "estimate",
        ["estimate", *EST],
        {
            "number": [
                "params",
                "tokens",
                "epochs",
                "params-active",
                "compute",
                "chips",
                "hours",
                "days",
                "chip-hours",
                "utilization",
                "price-per-chip-hour",
                "chip-price",
            ],
            "name": [
                "hardware",
                "precision",
                "method",
                "cloud-tier",
                "cloud-vendor",
                "attention",
                "sampling",
                "depreciation",
                "grid",
            ],
            "whole": ["samples", "seed"],
            "year": ["year-dollars"],
            "real": ["cost-of-capital"],
        },
    ),
    (
        "estimate straight-line",
        ["estimate", *EST, "--depreciation", "straight-line"],
        {"real": ["depreciation-years"]},
    ),
    (
        "hardware plan",
        ["hardware", "plan", "--hardware", "h100", "--compute", "1e24", "--samples", "200"],
        {
            "number": ["compute", "chips", "days", "utilization"],
            "name": ["hardware", "precision", "method", "cloud-tier", "cloud-vendor", "grid"],
            "whole": ["samples", "seed"],
        },
    ),
    (
        "hardware plan params",
        ["hardware", "plan", "--hardware", "b200", "--params", "7e9", "--tokens", "1e12", "--samples", "200"],
        {"number": ["params", "tokens"]},
    ),
    (
        "deploy",
        ["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--samples", "200"],
        {
            "number": ["tokens-per-day", "params", "params-active", "price-per-chip-hour", "load-factor", "api-price"],
            "name": ["hardware", "precision", "overlap", "parallelism", "weight-kernel"],
            "whole": ["chips", "batch", "context", "samples", "seed"],
        },
    ),
    (
        "deploy scenario",
        ["deploy", "bloom-176b", "--samples", "200"],
        {"name": ["scenario"], "real": ["days", "kv-fraction"]},
    ),
    (
        "costs",
        ["costs", "--top", "3", "--samples", "200"],
        {
            "name": [
                "domain",
                "org",
                "method",
                "cloud-tier",
                "cloud-vendor",
                "attention",
                "sampling",
                "format",
                "data",
            ],
            "whole": ["top", "samples", "seed"],
            "year": ["since", "until", "year-dollars"],
        },
    ),
    (
        "trend",
        ["trend", "compute", "--top", "5", "--bootstrap", "0"],
        {
            "number": ["cross"],
            "name": ["domain", "org", "cost-method"],
            "whole": ["top", "bootstrap", "samples"],
            "year": ["since", "until", "extrapolate"],
            "real": ["above-trend", "credibility"],
        },
    ),
    (
        "trend cost",
        ["trend", "cost", "--top", "5", "--bootstrap", "0", "--samples", "200"],
        {"name": ["sampling"], "year": ["year-dollars"]},
    ),
    ("lag", ["lag"], {"name": ["date-basis"], "whole": ["top", "period"], "year": ["since"]}),
    (
        "forecast",
        ["forecast", "compute", "--samples", "200"],
        {
            "number": ["threshold"],
            "name": ["cost-method", "cap", "prior"],
            "whole": ["samples", "seed"],
            "year": ["until", "fit-since", "fit-until", "year-dollars"],
        },
    ),
    (
        "diffusion",
        ["diffusion", "gpt-3", "--samples", "200"],
        {
            "number": ["budget", "price-performance"],
            "name": ["cost-method"],
            "whole": ["samples", "seed"],
            "year": ["year"],
        },
    ),
    (
        "diffusion by cost",
        ["diffusion", "--cost", "1e6", "--date", "2020-01-01", "--samples", "200"],
        {"number": ["cost"]},
    ),
    (
        "diffusion by compute",
        ["diffusion", "--compute", "3e23", "--hardware", "a100", "--date", "2021-01-01", "--samples", "200"],
        {"number": ["compute"], "name": ["hardware"]},
    ),
    ("emulate", ["emulate", "--params", "175e9", "--tokens", "300e9"], {"number": ["params", "tokens"]}),
    (
        "hardware compare",
        ["hardware", "compare", "a100", "h100"],
        {"number": ["params", "price-a", "price-b", "utilization"], "name": ["precision", "cloud-tier"]},
    ),
    ("models list", ["models", "list"], {"whole": ["top", "limit"], "year": ["since", "until"]}),
    (
        "mfu calc",
        ["mfu", "calc", "--tokens-per-s", "1e5", "--params", "175e9", "--chips", "1024", "--hardware", "a100"],
        {
            "number": ["tokens-per-s", "params", "peak"],
            "name": ["hardware", "precision", "recompute", "attention"],
            "whole": ["chips", "layers", "d-model", "context"],
        },
    ),
]
#: commands whose argument is a name: the argument gets every bad name
ARGUMENTS = [
    ("estimate NAME", ["estimate"]),
    ("hardware show NAME", ["hardware", "show"]),
    ("hardware compare A", ["hardware", "compare", "a100"]),
    ("models show NAME", ["models", "show"]),
    ("diffusion NAME", ["diffusion", "--samples", "200"]),
    ("emulate NAME", ["emulate"]),
    ("deploy NAME", ["deploy", "--tokens-per-day", "1e9", "--samples", "200"]),
    ("trend METRIC", ["trend"]),
    ("forecast METRIC", ["forecast"]),
    ("data check FILE", ["data", "check"]),
]
EST_BASE = ["estimate", *EST]
#: single cases: the limits of flopcast.limits at and past their edges, dates, and what goes with what
SINGLE = [
    ("estimate chips fractional", [*EST_BASE, "--chips", "0.5"]),
    ("estimate chips over the limit", [*EST_BASE, "--chips", "1e30"]),
    ("estimate chips at the limit", [*EST_BASE, "--chips", "1e7"]),
    ("estimate chips just over the limit", [*EST_BASE, "--chips", "10000001"]),
    ("estimate chips interval high end", [*EST_BASE, "--chips", "8..1e30"]),
    ("estimate chips interval fractional low", [*EST_BASE, "--chips", "0.5..8"]),
    ("estimate hours under a second", [*EST_BASE, "--hours", "1e-300"]),
    ("estimate hours one second", [*EST_BASE, "--hours", "0.0002777778"]),
    ("estimate days interval under a second", [*EST_BASE, "--days", "1e-9..1"]),
    ("estimate params at the limit", ["estimate", "--params", "1e16", "--tokens", "1e12", "--hardware", "a100"]),
    ("estimate params over the limit", ["estimate", "--params", "1.1e16", "--tokens", "1e12", "--hardware", "a100"]),
    ("estimate params denormal", ["estimate", "--params", "1e-320", "--tokens", "1e12", "--hardware", "a100"]),
    ("estimate params interval high end", ["estimate", "--params", "1e9..1e30", "--tokens", "1e12"]),
    ("estimate start date far", ["estimate", "gpt-3", "--start-date", "9999-01-01"]),
    ("estimate start date mid-2100", ["estimate", "gpt-3", "--start-date", "2100-06-01"]),
    ("estimate start date not a day", ["estimate", "gpt-3", "--start-date", "2020-02-30"]),
    ("estimate start date empty", ["estimate", "gpt-3", "--start-date", ""]),
    ("estimate hours and days", ["estimate", "gpt-3", "--hours", "10", "--days", "1"]),
    ("estimate nothing", ["estimate"]),
    ("estimate price index without year", ["estimate", "gpt-3", "--price-index", "/nonexistent.csv"]),
    (
        "estimate price index missing",
        ["estimate", "gpt-3", "--price-index", "/nonexistent.csv", "--year-dollars", "2020"],
    ),
    ("estimate price json", [*EST_BASE, "--price-per-chip-hour", "1e300", "--json"]),
    ("deploy chips over an instance", ["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--chips", "100000"]),
    (
        "deploy chips at an instance",
        ["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--chips", "4096", "--samples", "200"],
    ),
    ("deploy chips just over an instance", ["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--chips", "4097"]),
    ("deploy params huge", ["deploy", "--params", "1e30", "--tokens-per-day", "1e9"]),
    ("deploy days inf", ["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--days", "inf"]),
    ("deploy days under a second", ["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--days", "1e-9"]),
    ("deploy days interval", ["deploy", "bloom-176b", "--tokens-per-day", "1e9", "--days", "1..2"]),
    ("deploy tokens json", ["deploy", "bloom-176b", "--tokens-per-day", "1e-320", "--json"]),
    ("deploy scenario and tokens", ["deploy", "bloom-176b", "--scenario", "twitter-1pct", "--tokens-per-day", "1e9"]),
    ("deploy no load", ["deploy", "bloom-176b"]),
    ("deploy params interval", ["deploy", "--params", "1e9..2e9", "--tokens-per-day", "1e9"]),
    ("trend extrapolate far", ["trend", "cost", "--top", "10", "--extrapolate", "99999"]),
    ("trend extrapolate far json", ["trend", "cost", "--top", "10", "--extrapolate", "99999", "--json"]),
    (
        "trend extrapolate at the limit",
        ["trend", "compute", "--top", "10", "--bootstrap", "0", "--extrapolate", "2100"],
    ),
    ("trend since at the limit", ["trend", "compute", "--bootstrap", "0", "--since", "1950"]),
    ("trend since after until", ["trend", "cost", "--since", "2024", "--until", "2020"]),
    ("forecast top zero", ["forecast", "cost", "--top", "0"]),
    ("forecast largest and top", ["forecast", "cost", "--largest", "--top", "5"]),
    ("forecast threshold below today", ["forecast", "cost", "--threshold", "1e6", "--samples", "200"]),
    ("forecast until before the data", ["forecast", "cost", "--until", "2024", "--samples", "200"]),
    ("forecast prior backwards", ["forecast", "cost", "--prior", "compute=5..3"]),
    ("forecast prior twice", ["forecast", "cost", "--prior", "compute=3..5", "--prior", "compute=2..4"]),
    ("lag since far", ["lag", "--since", "99999"]),
    ("lag since far json", ["lag", "--since", "99999", "--json"]),
    ("diffusion year far", ["diffusion", "gpt-3", "--year", "99999"]),
    ("diffusion year at the limit", ["diffusion", "gpt-3", "--year", "2099", "--samples", "200"]),
    ("diffusion year past the last mid-year", ["diffusion", "gpt-3", "--year", "2100"]),
    ("diffusion date far", ["diffusion", "--cost", "1e6", "--date", "9999-01-01"]),
    ("diffusion date at the limit", ["diffusion", "--cost", "1e6", "--date", "2100-01-01", "--year", "2099"]),
    ("diffusion date early", ["diffusion", "--cost", "1e6", "--date", "0001-01-01"]),
    ("diffusion date month 13", ["diffusion", "--cost", "1e6", "--date", "2020-13-01"]),
    ("diffusion date five digits", ["diffusion", "--cost", "1e6", "--date", "99999"]),
    ("diffusion date empty", ["diffusion", "--cost", "1e6", "--date", ""]),
    ("diffusion actors missing", ["diffusion", "gpt-3", "--actors", "/nonexistent.csv"]),
    ("hardware compare date far", ["hardware", "compare", "v100", "a100", "--date", "9999-01-01"]),
    ("hardware compare date not a day", ["hardware", "compare", "v100", "a100", "--date", "2026-02-30"]),
    ("hardware show date early", ["hardware", "show", "h100", "--date", "1900-01-01"]),
    ("hardware show date empty", ["hardware", "show", "h100", "--date", ""]),
    ("hardware list date word", ["hardware", "list", "--date", "today"]),
    ("hardware plan nothing", ["hardware", "plan"]),
    ("hardware plan chips and days", ["hardware", "plan", "--compute", "1e24", "--chips", "8", "--days", "30"]),
    ("hardware plan no chip", ["hardware", "plan", "--compute", "1e24", "--hardware", ","]),
    ("hardware plan too many chips", ["hardware", "plan", "--compute", "1e24", "--hardware", ",".join(["h100"] * 25)]),
    ("hardware plan plot suffix", ["hardware", "plan", "--compute", "1e24", "--plot", "plan.txt"]),
    ("estimate book life without straight-line", [*EST_BASE, "--depreciation-years", "5"]),
    ("estimate grid over 2", [*EST_BASE, "--grid", "3"]),
    ("estimate grid negative", [*EST_BASE, "--grid", "-0.1"]),
    ("estimate grid zero", [*EST_BASE, "--grid", "0", "--samples", "200"]),
    ("emulate model and params", ["emulate", "gpt-3", "--params", "1e9"]),
    ("emulate params alone", ["emulate", "--params", "1e9"]),
    ("models list since after until", ["models", "list", "--since", "2024", "--until", "2020"]),
    ("models list since far", ["models", "list", "--since", "99999"]),
    ("costs price index without year", ["costs", "--price-index", "x.csv"]),
    ("costs unknown option", ["costs", "--zzz"]),
    ("unknown command", ["zzz"]),
    ("mfu measure device empty", ["mfu", "measure", "--device", ""]),
    ("mfu measure device unknown", ["mfu", "measure", "--device", "tpu"]),
    ("mfu measure config unknown", ["mfu", "measure", "--config", "zzz"]),
    ("mfu measure config empty", ["mfu", "measure", "--config", ""]),
    ("mfu measure steps negative", ["mfu", "measure", "--steps", "-1"]),
    ("mfu measure warmup negative", ["mfu", "measure", "--warmup", "-1"]),
    ("mfu measure batch zero", ["mfu", "measure", "--batch", "0"]),
    ("mfu measure precision unknown", ["mfu", "measure", "--precision", "fp2"]),
    ("mfu measure threads zero", ["mfu", "measure", "--threads", "0"]),
    ("report params word", ["report", "--params", "abc", "--out", "r.html"]),
    ("report chips fractional", ["report", *EST[:6], "--chips", "0.5", "--out", "r.html"]),
    ("report days under a second", ["report", *EST[:6], "--days", "1e-300", "--out", "r.html"]),
    ("report samples zero", ["report", "gpt-3", "--samples", "0", "--out", "r.html"]),
    ("report model unknown", ["report", "zzz", "--out", "r.html"]),
    ("report scenario unknown", ["report", "gpt-3", "--scenario", "zzz", "--samples", "200", "--out", "r.html"]),
    ("validate only unknown", ["validate", "--only", "zzz"]),
    ("data check missing", ["data", "check", "/nonexistent/file.csv"]),
    ("data check a folder", ["data", "check", "/"]),
]

#: cases whose input is valid after all: exit 0 (no traceback, no warning)
VALID = {
    # a seed is any whole number >= 0
    *(f"{c} --seed huge" for c in ("estimate", "deploy", "costs", "diffusion")),
    # an empty filter keeps every model
    *(f"{c} --{o} empty" for c in ("costs", "trend") for o in ("domain", "org")),
    # a frontier larger than the database is the whole database; as many rows or years a period as one likes
    *("costs --top huge", "trend --top huge", "models list --top huge", "models list --limit huge"),
    *("lag --top huge", "lag --period huge"),
    # points at least -1 (or 0) orders of magnitude above the trend: a looser filter
    *("trend --above-trend negative", "trend --above-trend zero"),
    # a name with a right-to-left override is read without it (format characters are dropped)
    *(f"{c} right-to-left override" for c in ("estimate NAME", "models show NAME", "diffusion NAME", "emulate NAME")),
    "deploy NAME right-to-left override",
    # the edges of the limits are inside them
    *("estimate chips at the limit", "estimate hours one second", "estimate params at the limit"),
    *("deploy chips at an instance", "trend extrapolate at the limit", "trend since at the limit"),
    *("diffusion year at the limit", "diffusion date at the limit"),
    # no cost of capital is Cottier et al.'s method; a zero-carbon grid is a grid
    *("estimate --cost-of-capital zero", "estimate grid zero"),
    *("hardware plan --seed huge",),
    # any whole seed >= 0 is a seed
    "forecast --seed huge",
}

#: cases that fail today in a part of flopcast this sweep does not change: (case, reason); none left
KNOWN: dict[str, str] = {}


def _cases() -> list:
    cases: list[tuple[str, list[str]]] = []
    for label, base, options in COMMANDS:
        for kind, names in options.items():
            for option in names:
                cases += [(f"{label} --{option} {what}", [*base, f"--{option}", v]) for what, v in KINDS[kind]]
    for label, base in ARGUMENTS:
        cases += [(f"{label} {what}", [*base, v]) for what, v in NAME]
    cases += SINGLE
    out = []
    for case, argv in cases:
        marks = [pytest.mark.xfail(reason=KNOWN[case], strict=False)] if case in KNOWN else []
        out.append(pytest.param(argv, 0 if case in VALID else 2, id=case, marks=marks))
    return out


CASES = _cases()
#: the warning categories Python ignores by default (a ResourceWarning may also come from an earlier test's garbage)
_HIDDEN = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def test_the_sweep_is_large_and_its_lists_name_real_cases():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) >= 250
    assert set(ids) >= VALID and set(KNOWN) <= set(ids)


@pytest.mark.parametrize("argv, status", CASES)
def test_bad_input_is_one_line_and_status_2(argv, status, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # a command that writes (report --out r.html) would write here
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run(argv, capsys)
    # the warnings Python shows a user by default (a numpy overflow is a RuntimeWarning); not those it hides
    shown = [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, _HIDDEN)]
    assert "Traceback" not in out + err and not shown
    assert code == status, err
    if status == 2:
        assert out == "" and err.startswith("error: ") and err.count("\n") == 1 and err.endswith("\n")
    assert list(tmp_path.iterdir()) == []
