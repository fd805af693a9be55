"""Reading Epoch AI's CSV databases: the real snapshot, each hazard found in it, malformed input.

The snapshot is the one embedded in the package (decompressed by tests/conftest.py). Each hazard
test writes a small synthetic CSV reproducing what was found in
the snapshot and, where possible, also checks the real row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import epoch_folder

from flopcast.datasets import epoch
from flopcast.datasets.epoch import (
    check_file,
    find_model,
    load_epoch_models,
    load_epoch_prices,
)
from flopcast.datasets.parsing import (
    ParseIssue,
    ParseReport,
    parse_date,
    parse_number,
    split_list,
)
from flopcast.errors import CatalogError, UnknownModelError

ROOT = Path(__file__).resolve().parents[1]
EPOCH = epoch_folder()

MODEL_COLS = [
    "Model",
    "Organization",
    "Publication date",
    "Training compute (FLOP)",
    "Training hardware",
    "Hardware quantity",
    "Hardware utilization (MFU)",
    "Training dataset size (datapoints)",
    "Abstract",
]


def _real(name: str) -> Path:
    p = EPOCH / name
    if not p.is_file():
        pytest.fail(f"Epoch AI data snapshot file {name} not found at {EPOCH}")
    return p


@pytest.fixture(scope="module")
def real_models() -> tuple[list[epoch.EpochModel], ParseReport]:
    return load_epoch_models(_real("ai_models.csv"))


@pytest.fixture(scope="module")
def real_hardware_report() -> ParseReport:
    return check_file(_real("ml_hardware.csv"))


def _csv(tmp_path: Path, text: str | bytes, name: str = "models.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_bytes(text.encode("utf-8"))
    return p


def _models_csv(tmp_path: Path, rows: list[str], *, cols=MODEL_COLS, nl: str = "\n", name: str = "models.csv") -> Path:
    return _csv(tmp_path, nl.join([",".join(cols), *rows]) + nl, name)


def _row(name="M", org="Org", date="2020-05-28", compute="1e20", hw="", qty="", util="", size="", abstract="") -> str:
    return f"{name},{org},{date},{compute},{hw},{qty},{util},{size},{abstract}"


def _issues(report: ParseReport, column: str | None = None) -> list[ParseIssue]:
    return [i for i in report.issues if column is None or i.column == column]


# --------------------------------------------------------------------------- the real snapshot


def test_real_models_load_all_records():
    # how fast: benchmarks/ (a unit test asserts what is read, not how long it took)
    path = _real("ai_models.csv")
    models, report = load_epoch_models(path)
    assert report.records == 1892
    assert len(models) == 1892
    assert report.skipped == 0
    assert report.kind == "models"
    assert report.missing_columns == []
    assert "Authors" in report.extra_columns
    assert report.summary().startswith("ai_models.csv: 1892 records, ")


def test_real_gpt3_parsed(real_models):
    models, _ = real_models
    m = find_model(models, "GPT-3 175B (davinci)")
    assert m.training_compute_flop == pytest.approx(3.14e23)
    assert m.hardware_quantity == 10_000
    assert m.training_hardware == ("NVIDIA Tesla V100 DGXS 32 GB",)
    assert "V100 DGXS 32 GB" in m.training_hardware[0]
    assert m.training_time_hours == pytest.approx(355.2)
    assert m.utilization == pytest.approx(0.1968)
    assert m.organizations == ("OpenAI",)
    assert m.publication_date == dt.date(2020, 5, 28)
    assert m.confidence == "confident"
    assert m.line > 1


def test_real_gpt4_hardware_quantity(real_models):
    m = find_model(real_models[0], "GPT-4")
    assert m.hardware_quantity == 25_000
    assert m.training_compute_flop == pytest.approx(2.1e25)


def test_real_multi_organization_row_split(real_models):
    m = find_model(real_models[0], "Pythia-12b")
    assert m.organizations[0] == "EleutherAI"
    assert "Booz Allen Hamilton, McLean" in m.organizations  # quoted item holding a comma
    assert "Stability AI" in m.organizations
    assert len(m.organizations) == 7


def test_real_multi_hardware_row_split(real_models):
    m = find_model(real_models[0], "Boltz-2")
    assert m.training_hardware == ("NVIDIA A100", "NVIDIA H100 NVL")


def test_real_issue_counts_on_every_file(real_models, real_hardware_report):
    _, models = real_models
    # dataset size 0.0 and fine-tune compute 0 on one row (line 6180), utilization 72.0 on another
    assert len(models.issues) == 3
    assert len(models.duplicates) == 4
    assert real_hardware_report.records == 5774
    assert real_hardware_report.issues == []
    prices = check_file(_real("hardware_prices.csv"))
    assert (prices.kind, prices.records, len(prices.issues)) == ("prices", 591, 1)
    index = check_file(_real("price_index_PCU518210518210.csv"))
    assert (index.kind, index.records, index.issues) == ("price_index", 295, [])


# --------------------------------------------------------------------------- hazards found in the snapshot


def test_hazard_multiline_quoted_fields_keep_line_numbers(tmp_path, real_models):
    # ai_models.csv: 1,555 of 1,892 records span several lines (abstracts, notes).
    p = _models_csv(
        tmp_path,
        [
            _row("A", abstract='"first line\nsecond line\n\nfourth"'),
            _row("B", compute="abc"),
        ],
    )
    models, report = load_epoch_models(p)
    assert [m.line for m in models] == [2, 6]
    (issue,) = report.issues
    assert issue.line == 6
    # real: FunSearch's issue line is the physical line where its record starts
    _, real = real_models
    (funsearch,) = [i for i in real.issues if i.column == "Training dataset size (datapoints)"]
    with _real("ai_models.csv").open(encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    assert lines[funsearch.line - 1].startswith("FunSearch,")


def test_hazard_crlf_records_with_lf_inside_cells(tmp_path):
    # ai_models.csv ends records with CRLF while line breaks inside cells are bare LF.
    p = _models_csv(tmp_path, [_row("A", abstract='"x\ny"'), _row("B")], nl="\r\n")
    models, report = load_epoch_models(p)
    assert [m.name for m in models] == ["A", "B"]
    assert [m.line for m in models] == [2, 4]
    assert report.issues == []


def test_hazard_utf8_bom(tmp_path, real_hardware_report):
    # ml_hardware.csv and hardware_prices.csv start with a UTF-8 byte-order mark.
    p = _csv(tmp_path, "\ufeff" + ",".join(MODEL_COLS) + "\n" + _row("A") + "\n")
    models, report = load_epoch_models(p)
    assert models[0].name == "A" and report.issues == []  # 'Model' (first header) found despite the BOM
    assert real_hardware_report.missing_columns == []
    prices, _ = load_epoch_prices(_real("hardware_prices.csv"))
    assert prices[0].source and prices[0].source.startswith("https://")  # first column, after the BOM


def test_hazard_stray_carriage_return_in_unquoted_cell(tmp_path, real_hardware_report):
    # ml_hardware.csv line 1014: 'NVIDIA GeForce RTX 2080 Ti Founders Edition\r,NVIDIA,...'
    # A csv reader splits that record in two (a 1-cell record, then one with no name).
    text = "Hardware name,Manufacturer,TDP (W)\nChip A\r,NVIDIA,250\nChip B,AMD,300\n"
    report = check_file(_csv(tmp_path, text, "ml_hardware.csv"))
    assert report.records == 2 and report.skipped == 0 and report.issues == []
    assert any("carriage return" in w.reason and w.line == 2 for w in report.warnings)
    assert real_hardware_report.skipped == 0
    assert any("carriage return" in w.reason and w.line == 1014 for w in real_hardware_report.warnings)


def test_hazard_dollar_prices(tmp_path, real_hardware_report):
    # ml_hardware.csv: 1,229 release prices written like "$15000.00".
    text = 'Hardware name,Release price (USD)\nA,$15000.00\nB,"$1,234"\nC,\nD,$abc\n'
    report = check_file(_csv(tmp_path, text, "ml_hardware.csv"))
    (issue,) = report.issues
    assert (issue.line, issue.column, issue.value) == (5, "Release price (USD)", "$abc")
    assert parse_number("$15000.00") == (15000.0, None)
    assert parse_number("$1,234") == (1234.0, None)
    assert not [i for i in real_hardware_report.issues if i.column == "Release price (USD)"]


def test_hazard_empty_cells_are_none_not_issues(tmp_path, real_models):
    # Most cells are empty (e.g. 1,830 of 1,892 utilization cells).
    p = _models_csv(tmp_path, [_row("A", compute="", date="", hw="", qty="", util="  ")])
    (m,), report = load_epoch_models(p)
    assert report.issues == []
    assert m.training_compute_flop is None and m.publication_date is None and m.training_hardware == ()
    assert m.utilization is None
    models, _ = real_models
    assert sum(m.utilization is None for m in models) >= 1800


def test_hazard_duplicate_and_near_duplicate_names(tmp_path, real_models):
    # ai_models.csv: 'P-LLama3' twice; 'CALM'/'CaLM', 'DeepLabV3+'/'DeepLabV3', 'PointNet++'/'PointNet'.
    p = _models_csv(tmp_path, [_row("P-LLama3"), _row("CALM"), _row("P-LLama3", compute="2e20"), _row("CaLM")])
    models, report = load_epoch_models(p)
    assert len(models) == 4
    assert report.duplicates == [("P-LLama3", [2, 4]), ("CALM / CaLM", [3, 5])]
    assert "2 duplicate names" in report.summary()
    assert find_model(models, "CaLM").line == 5  # exact match preferred
    assert find_model(models, "calm").line == 3  # else the first
    _, real = real_models
    dup_names = [n for n, _ in real.duplicates]
    assert "P-LLama3" in dup_names and "CALM / CaLM" in dup_names
    assert all(len(lines) == 2 for _, lines in real.duplicates)


def test_hazard_multivalued_cells_with_quoted_items(tmp_path, real_models):
    # Airtable writes list items holding a comma in quotes, inside the quoted cell:
    # 'University of Cambridge,"NERSC, Lawrence Berkeley National Laboratory",...'
    # Also: 'MIT, Genesis Therapeutics' (space after comma), an item with a line break.
    org = '"Stanford University,""SambaNova Systems, Inc"",""Indraprastha Institute\nDelhi"", Adobe"'
    p = _models_csv(tmp_path, [_row("A", org=org, hw='"NVIDIA A100,NVIDIA H100 NVL"')])
    (m,), _ = load_epoch_models(p)
    assert m.organizations == ("Stanford University", "SambaNova Systems, Inc", "Indraprastha Institute Delhi", "Adobe")
    assert m.training_hardware == ("NVIDIA A100", "NVIDIA H100 NVL")
    assert split_list('Wikipedia,"BookCorpus (BooksCorpus, Toronto Book Corpus)"') == (
        "Wikipedia",
        "BookCorpus (BooksCorpus, Toronto Book Corpus)",
    )
    models, _ = real_models
    assert find_model(models, "SambaLingo-Thai-Chat-70B").organizations == ("SambaNova Systems, Inc",)
    assert "NERSC, Lawrence Berkeley National Laboratory" in find_model(models, "MACE-MP-0").organizations
    assert find_model(models, "Boltz-1").organizations == (
        "Massachusetts Institute of Technology (MIT)",
        "Genesis Therapeutics",
    )
    assert "BookCorpus (BooksCorpus, Toronto Book Corpus)" in find_model(models, "BEIT-3").training_datasets
    assert "Indraprastha Institute of Information Technology Delhi" in find_model(models, "Pythia-12b").organizations


def test_hazard_multivalued_format_and_method_columns(real_models):
    # 'Numerical format' ('FP8,BF16,FP32') and the estimation method ('Operation counting,Hardware') are lists too.
    models, _ = real_models
    assert any(len(m.numerical_format) == 3 for m in models)
    assert any(m.estimation_method == ("Operation counting", "Hardware") for m in models)
    assert all("," not in x for m in models for x in m.estimation_method + m.numerical_format + m.domains)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2020-05-28", dt.date(2020, 5, 28)),
        ("2020-05", dt.date(2020, 5, 1)),
        ("2020", dt.date(2020, 1, 1)),
        ("6/18/2025 11:40am", dt.date(2025, 6, 18)),
        ("5/27/2025 3:05pm", dt.date(2025, 5, 27)),
        ("2025-06-18 11:40", dt.date(2025, 6, 18)),
        ("", None),
    ],
)
def test_hazard_date_formats(raw, expected):
    # ml_hardware.csv 'Last modified': 5,585 cells like '6/18/2025 11:40am'; ai_models.csv: '2025-06-18 11:40'.
    assert parse_date(raw) == (expected, None)


def test_hazard_odd_dates_in_real_files_parse(tmp_path, real_hardware_report):
    assert not [i for i in real_hardware_report.issues if i.column in ("Last modified", "Release date")]
    text = (
        "Hardware name,Release date,Last modified\nA,2020-02-30,6/18/2025 11:40am\nB,2020,13/45/2025 1:00pm\nC,soon,\n"
    )
    report = check_file(_csv(tmp_path, text, "ml_hardware.csv"))
    got = [(i.line, i.column, i.value) for i in report.issues]
    assert got == [
        (2, "Release date", "2020-02-30"),
        (3, "Last modified", "13/45/2025 1:00pm"),
        (4, "Release date", "soon"),
    ]
    assert all(i.reason for i in report.issues)


def test_hazard_names_with_stray_whitespace(tmp_path, real_models):
    # 14 model names carry tabs, a trailing newline, a no-break space or a line break after a hyphen.
    rows = ['"Zephyr 141B\t\t\t",,', '" ALLaM\u00a0adapted 70B\n",,', '"Cosmos-1.0-\nDiffusion-14B",,']
    p = _models_csv(tmp_path, rows, cols=["Model", "Publication date", "Training compute (FLOP)"])
    models, report = load_epoch_models(p)
    assert [m.name for m in models] == ["Zephyr 141B", "ALLaM adapted 70B", "Cosmos-1.0-Diffusion-14B"]
    assert len(report.warnings) == 3 and report.issues == []
    real, _ = real_models
    assert find_model(real, "Zephyr 141B-A39B").name == "Zephyr 141B-A39B"
    assert find_model(real, "Cosmos-1.0-Diffusion-14B Video2World").line > 1
    assert all(m.name == m.name.strip() and "\t" not in m.name and "\n" not in m.name for m in real)


def test_hazard_utilization_entered_as_percent(tmp_path, real_models):
    # ai_models.csv line 8137: GPT3-2.7B (FlashAttention-2) has MFU 72.0 (meaning 72%).
    p = _models_csv(tmp_path, [_row("A", util="47%"), _row("B", util="72.0"), _row("C", util="0.5")])
    models, report = load_epoch_models(p)
    assert [m.utilization for m in models] == [pytest.approx(0.47), None, 0.5]
    (issue,) = report.issues
    assert (issue.line, issue.column, issue.value) == (3, "Hardware utilization (MFU)", "72.0")
    assert "(0, 1]" in issue.reason and "72.0%" in issue.reason
    real, rep = real_models
    assert find_model(real, "GPT3-2.7B (FlashAttention-2)").utilization is None
    assert any(i.line == 8137 and i.value == "72.0" for i in rep.issues)
    assert parse_number("47%") == (None, "a percentage is not allowed in this column")  # only where allowed


def test_hazard_zero_count(tmp_path, real_models):
    # ai_models.csv line 6180: FunSearch has a training dataset size of 0.0.
    p = _models_csv(tmp_path, [_row("A", size="0.0"), _row("B", qty="-8")])
    models, report = load_epoch_models(p)
    assert len(models) == 2 and models[0].dataset_size is None and models[1].hardware_quantity is None
    assert [(i.line, i.column) for i in report.issues] == [
        (2, "Training dataset size (datapoints)"),
        (3, "Hardware quantity"),
    ]
    assert all("positive" in i.reason for i in report.issues)
    real, rep = real_models
    assert find_model(real, "FunSearch").dataset_size is None
    assert any(i.line == 6180 for i in rep.issues)


def test_hazard_nan_and_infinity_literals(tmp_path):
    # ml_hardware.csv 'Energy efficiency': 618 'NaN' and 398 'Infinity' cells.
    p = _models_csv(tmp_path, [_row("A", compute="NaN"), _row("B", compute="Infinity"), _row("C", compute="-inf")])
    models, report = load_epoch_models(p)
    assert [m.training_compute_flop for m in models] == [None, None, None]
    assert [i.reason for i in report.issues] == ["not a finite number"] * 3


def test_hazard_compute_bounds_contradict_estimate(tmp_path, real_models):
    # ai_models.csv line 14674: ConvS2S, lower bound 5.65e19 above its central estimate 5.64e19.
    cols = [
        "Model",
        "Publication date",
        "Training compute (FLOP)",
        "Training compute lower bound",
        "Training compute upper bound",
    ]
    p = _models_csv(tmp_path, ["A,2017,5.64e19,5.65e19,", "B,2017,1e20,5e19,2e20", "C,2017,,3e21,1e21"], cols=cols)
    models, report = load_epoch_models(p)
    assert models[0].compute_lower_flop == 5.65e19  # kept, but warned about
    assert report.issues == []
    assert [w.line for w in report.warnings] == [2, 4]
    _, rep = real_models
    assert any(w.line == 14674 and "bounds" in w.reason for w in rep.warnings)


def test_hazard_price_row_without_date_or_price(tmp_path):
    # hardware_prices.csv line 594: 'NVIDIA H100 SXM5 80GB' with no date and no price.
    text = (
        "\ufeffPrice source,Price date,Hardware model,Price per chip-hour (on-demand),Price (hardware purchase),Number of GPUs\n"
        "https://x,2023-01-02,NVIDIA H100,2.5,,8\n"
        ",,NVIDIA H100 SXM5 80GB,,,\n"
        "https://y,2023-01-03,,1.0,,\n"
    )
    prices, report = load_epoch_prices(_csv(tmp_path, text, "hardware_prices.csv"))
    assert [(p.hardware, p.date, p.on_demand) for p in prices] == [
        ("NVIDIA H100", dt.date(2023, 1, 2), 2.5),
        ("NVIDIA H100 SXM5 80GB", None, None),
    ]
    assert report.records == 3 and report.skipped == 1
    assert [(i.line, i.column) for i in report.issues] == [(3, "Price date"), (4, "Hardware model")]
    real, rep = load_epoch_prices(_real("hardware_prices.csv"))
    assert len(real) == 591
    assert [i.line for i in rep.issues] == [594]
    assert any(p.on_demand is not None and p.vendor for p in real)


def test_hazard_trailing_blank_line(tmp_path):
    # price_index_PCU518210518210.csv ends with an empty line.
    text = "observation_date,PCU518210518210\n2000-12-01,100.000\n2001-01-01,-1\n2001-02,abc\n\n\n"
    report = check_file(_csv(tmp_path, text, "index.csv"))
    assert report.kind == "price_index" and report.records == 3
    assert [(i.line, i.value) for i in report.issues] == [(3, "-1"), (4, "abc")]


def test_hazard_unicode_names_kept(tmp_path, real_models):
    # 'π0.5 (pi-0.5)', 'ERNIE 4.5 (文心大模型4.5)', 'PanGu-Σ', 'NÜWA', 'µFormer' are in the snapshot.
    p = _models_csv(tmp_path, [_row("π0.5 (pi-0.5)"), _row("ERNIE 4.5 (文心大模型4.5)"), _row("PanGu-Σ")])
    models, report = load_epoch_models(p)
    assert [m.name for m in models] == ["π0.5 (pi-0.5)", "ERNIE 4.5 (文心大模型4.5)", "PanGu-Σ"]
    assert report.issues == [] and report.duplicates == []
    assert find_model(models, "pangu-σ").name == "PanGu-Σ"  # noqa: RUF001 (a real model name)
    real, _ = real_models
    assert find_model(real, "NÜWA").name == "NÜWA"
    assert find_model(real, "ERNIE 4.5 (文心大模型4.5)").organizations


def test_hazard_hardware_near_duplicates(real_hardware_report):
    # ml_hardware.csv: 'Intel Core i5 13600K' and 'Intel Core i5-13600K' are separate rows.
    names = dict(real_hardware_report.duplicates)
    assert names["Intel Core i5 13600K / Intel Core i5-13600K"] == [151, 5622]
    assert len(real_hardware_report.duplicates) == 87


# --------------------------------------------------------------------------- malformed input


def test_missing_required_columns_named(tmp_path):
    p = _csv(tmp_path, "Model,Organization\nA,B\n")
    with pytest.raises(CatalogError) as exc:
        load_epoch_models(p)
    assert "Publication date" in str(exc.value) and "Training compute (FLOP)" in str(exc.value)


def test_non_utf8_names_byte_offset(tmp_path):
    p = _csv(tmp_path, ",".join(MODEL_COLS).encode() + b"\nCaf\xe9,Org,2020,1e20,,,,,\n")
    with pytest.raises(CatalogError, match=r"not UTF-8.*byte offset \d+"):
        load_epoch_models(p)
    with pytest.raises(CatalogError, match="UTF-16"):
        check_file(_csv(tmp_path, "Model".encode("utf-16"), "u16.csv"))


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n", ",".join(MODEL_COLS) + "\n", ",".join(MODEL_COLS) + "\r\n\r\n"])
def test_empty_or_header_only_is_no_records(tmp_path, text):
    with pytest.raises(CatalogError, match="no records"):
        load_epoch_models(_csv(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(CatalogError, match="does not exist"):
        check_file(tmp_path / "nope.csv")


def test_unknown_header(tmp_path):
    with pytest.raises(CatalogError, match="matches none of Epoch's files"):
        check_file(_csv(tmp_path, "a,b\n1,2\n"))


def test_truncated_last_record_fewer_cells(tmp_path):
    p = _csv(tmp_path, ",".join(MODEL_COLS) + "\n" + _row("A") + "\nB,Org,2021")
    models, report = load_epoch_models(p)
    assert [m.name for m in models] == ["A", "B"]
    (issue,) = report.issues
    assert issue.line == 3 and issue.reason == f"truncated record: 3 of {len(MODEL_COLS)} cells"


def test_truncated_unterminated_quote_at_eof(tmp_path):
    p = _csv(tmp_path, ",".join(MODEL_COLS) + "\n" + _row("A") + "\n" + _row("B", abstract='"cut off here'))
    models, report = load_epoch_models(p)
    assert len(models) == 2
    (issue,) = report.issues
    assert issue.line == 3 and issue.reason.startswith("truncated record: 9 of 9 cells")
    assert "unterminated quote" in issue.reason
    p2 = _csv(tmp_path, ",".join(MODEL_COLS) + '\nA,"Org,2020,1e20\nB,x,2020,1e20,,,,,\n', "m2.csv")
    models, report = load_epoch_models(p2)
    assert len(models) == 1 and "truncated record: 2 of 9 cells" in report.issues[0].reason


def test_extra_cells_warned_row_kept(tmp_path):
    p = _models_csv(tmp_path, [_row("A") + ",surplus"])
    models, report = load_epoch_models(p)
    assert len(models) == 1 and report.issues == []
    assert "extra cells" in report.warnings[0].reason


def test_abc_in_compute_column_reported_row_kept(tmp_path):
    p = _models_csv(tmp_path, [_row("A"), _row("B", compute="abc")])
    models, report = load_epoch_models(p)
    assert [m.name for m in models] == ["A", "B"] and models[1].training_compute_flop is None
    assert report.issues == [ParseIssue("models.csv", 3, "Training compute (FLOP)", "abc", "not a number")]
    assert report.summary() == "models.csv: 2 records, 1 cell could not be parsed, 0 duplicate names"
    d = report.to_dict()
    assert d["issues"][0] == {
        "file": "models.csv",
        "line": 3,
        "column": "Training compute (FLOP)",
        "value": "abc",
        "reason": "not a number",
    }


def test_utilization_above_one_reported(tmp_path):
    (m,), report = load_epoch_models(_models_csv(tmp_path, [_row("A", util="1.7")]))
    assert m.utilization is None and m.name == "A"
    assert report.issues[0].column == "Hardware utilization (MFU)" and "outside (0, 1]" in report.issues[0].reason


def test_huge_number_not_finite(tmp_path):
    (m,), report = load_epoch_models(_models_csv(tmp_path, [_row("A", compute="1e400")]))
    assert m.training_compute_flop is None
    assert "not a finite number" in report.issues[0].reason


def test_empty_name_skipped_and_counted(tmp_path):
    p = _models_csv(tmp_path, [_row("A"), _row("  "), _row("C")])
    models, report = load_epoch_models(p)
    assert [m.name for m in models] == ["A", "C"]
    assert report.records == 3 and report.skipped == 1
    assert report.issues[0].line == 3 and "empty name" in report.issues[0].reason
    assert "1 row skipped" in report.summary()


def test_long_value_truncated_in_issue(tmp_path):
    _, report = load_epoch_models(_models_csv(tmp_path, [_row("A", compute="x" * 500)]))
    assert len(report.issues[0].value) <= 80


@pytest.mark.parametrize(
    "raw, value",
    [
        ("1.5e+23", 1.5e23),
        ("175000000000.0", 175e9),
        ("1,234,567", 1234567.0),
        (" 12 ", 12.0),
        ("", None),
        (None, None),
    ],
)
def test_number_formats(raw, value):
    assert parse_number(raw) == (value, None)


@pytest.mark.parametrize("raw", ["abc", "1,5", "1_000", "12 GB", "1.2.3", "--1", "nan", "1e400", "$"])
def test_number_rejects(raw):
    v, why = parse_number(raw)
    assert v is None and why


def test_find_model_unknown_lists_closest(real_models):
    with pytest.raises(UnknownModelError) as exc:
        find_model(real_models[0], "GPT-7")
    assert "GPT-4" in str(exc.value)
    assert find_model(real_models[0], "gpt 3 175b davinci").name == "GPT-3 175B (davinci)"


def test_check_file_detects_each_real_kind(real_hardware_report):
    assert real_hardware_report.kind == "hardware"
    assert check_file(_real("ai_models.csv")).kind == "models"


def test_oversized_cell_reported_not_crash(tmp_path):
    big = "y" * 200_000  # over the csv module's 131,072-character field limit
    text = (
        f'Model,Publication date,Training compute (FLOP),Abstract\nA,2020,1e20,x\nB,2020,1e20,"{big}"\nC,2020,1e21,z\n'
    )
    models, report = load_epoch_models(_csv(tmp_path, text))
    assert [m.name for m in models] == ["A", "C"]
    assert report.records == 3 and report.skipped == 1
    assert report.issues[0].line == 3 and "unreadable record" in report.issues[0].reason
