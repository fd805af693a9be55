"""`flopcast hardware`: prices at a date in list and show, compare at one stated date, and the run planner."""

import datetime as dt
import json
import re

import pytest

from flopcast.testing import run_cli as run

PLAN = ["hardware", "plan", "--params", "70e9", "--tokens", "15e12", "--chips", "1024", "--utilization", "0.35..0.45"]
FIVE = ("h100", "h200", "b200", "mi300x", "tpu-v5p")


def test_compare_prices_both_chips_at_one_stated_date(capsys):
    code, out, _ = run(["hardware", "compare", "v100", "a100", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["date"] == dt.date.today().isoformat() and d["tier"] == "3y"
    assert d["price_usd_per_chip_hour_a"] > 0 and d["price_usd_per_chip_hour_b"] > 0
    code, out, _ = run(["hardware", "compare", "v100", "a100", "--date", "2021-01-01"], capsys)
    assert code == 0 and "priced on 2021-01-01 (3y)" in " ".join(out.split())
    # at one date the ratio of $/FLOP is the ratio of prices over the ratio of peaks (312 / 125 = 2.496)
    d = json.loads(run(["hardware", "compare", "v100", "a100", "--date", "2021-01-01", "--json"], capsys)[1])
    ratio = (d["price_usd_per_chip_hour_a"] / 125e12) / (d["price_usd_per_chip_hour_b"] / 312e12)
    assert d["cost_per_flop_advantage"] == pytest.approx(ratio)


def test_show_and_list_give_prices_and_say_what_is_missing(capsys):
    code, out, _ = run(["hardware", "show", "h100", "--json", "--date", "2026-06-01"], capsys)
    assert code == 0
    p = json.loads(out)["prices"]
    assert p["date"] == "2026-06-01"
    for tier in ("on-demand", "1y", "3y"):
        e = p["cloud_usd_per_chip_hour"][tier]
        assert e["p5_usd"] < e["median_usd"] < e["p95_usd"] and e["quotes"] >= 3
    # a TDP Google does not publish reads as missing, never as zero
    code, out, _ = run(["hardware", "show", "tpu-v5p"], capsys)
    assert code == 0 and "│ TDP" in out and "missing" in out.split("│ TDP", 1)[1].split("\n", 1)[0]
    code, out, _ = run(["hardware", "list", "--search", "gaudi", "--json"], capsys)
    rows = json.loads(out)
    assert {r["key"] for r in rows} == {"gaudi2", "gaudi3"}
    for r in rows:  # a price the tables cannot give is null with the reason, not 0
        for tier, e in r["prices"]["cloud_usd_per_chip_hour"].items():
            assert e is None or e["median_usd"] > 0
            if e is None:
                assert r["prices"]["missing"][f"cloud {tier}"].startswith(f"no {tier} cloud price for Intel Gaudi")


def test_plan_costs_the_run_on_each_chip(capsys, tmp_path):
    plot = tmp_path / "plan.png"
    code, out, err = run([*PLAN, "--samples", "2000", "--json", "--plot", str(plot)], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert [r["hardware"] for r in d["rows"]] == list(FIVE)
    for r in d["rows"]:
        assert r["error"] is None and set(r["cost_usd"]) == {"cloud", "amortized", "acquisition"}, r
        assert r["chips"]["median"] == 1024 and r["energy_facility_j"]["median"] > 0 and r["peak_power_w"]["median"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # each column is `flopcast estimate` with that chip: the same numbers
    code, out, _ = run(
        [
            "estimate",
            "--params",
            "70e9",
            "--tokens",
            "15e12",
            "--chips",
            "1024",
            "--utilization",
            "0.35..0.45",
            "--hardware",
            "b200",
            "--start-date",
            dt.date.today().isoformat(),
            "--samples",
            "2000",
            "--json",
        ],
        capsys,
    )
    est = json.loads(out)
    b200 = d["rows"][2]
    for m in ("cloud", "amortized", "acquisition"):
        assert b200["cost_usd"][m]["median"] == est["cost_usd"][m]["median"]
    assert b200["peak_power_w"]["median"] == est["peak_power_w"]["median"]


def test_plan_with_a_deadline_sizes_the_cluster(capsys):
    # 70e9 x 15e12 x 6 = 6.3e24 FLOP at 40% of the H100's 989.4e12 FLOP/s: 4.42M chip-hours; in 90 days
    # that is ceil(4.42M / 2,160 h) = 2,047 chips
    argv = [*PLAN[:2], "--hardware", "h100", "--params", "70e9", "--tokens", "15e12", "--days", "90"]
    code, out, err = run([*argv, "--utilization", "0.4", "--json", "--samples", "500"], capsys)
    assert code == 0, err
    row = json.loads(out)["rows"][0]
    hours = 6 * 70e9 * 15e12 / (989.4e12 * 0.4 * 3600)
    assert row["chip_hours"]["median"] == pytest.approx(hours, rel=0.05)
    assert row["duration_s"]["median"] == pytest.approx(90 * 86400)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["hardware", "plan", "--params", "70e9"], "a plan needs params and tokens (--params, --tokens) or compute"),
        ([*PLAN, "--days", "30"], "give chips (the cluster size) or days (the deadline), not both"),
        (["hardware", "plan", "--compute", "1e24", "--hardware", ","], "hardware= names no chip"),
        (["hardware", "compare", "v100", "a100", "--date", "2026-02-30"], "--date='2026-02-30' is not a date"),
        (["hardware", "show", "h100", "--date", "1900-01-01"], "date=1900-01-01 is outside 1950-01-01..2100-01-01"),
        (["estimate", "gpt-3", "--depreciation", "linear"], "depreciation='linear' is not one of price-performance"),
        (["estimate", "gpt-3", "--cost-of-capital", "1.5"], "cost_of_capital=1.5 is outside [0, 1)"),
        (["estimate", "gpt-3", "--grid", "mars"], "unknown grid 'mars'"),
        (["estimate", "gpt-3", "--cloud-tier", "5y"], "cloud_tier='5y' is not one of on-demand, 1y, 3y, spot"),
    ],
)
def test_bad_hardware_and_money_options_are_one_line_exit_2(capsys, argv, message):
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_a_chip_the_plan_cannot_cost_says_why(capsys):
    # no provider quotes Gaudi 3 by the hour in the price tables: asked for the cloud cost alone, its column says
    # why (and names what is missing), the H100's stands
    argv = ["hardware", "plan", "--hardware", "h100,gaudi3", "--compute", "1e24", "--method", "cloud", "--json"]
    code, out, _ = run([*argv, "--samples", "200"], capsys)
    assert code == 0
    rows = json.loads(out)["rows"]
    assert rows[0]["error"] is None and rows[1]["error"].startswith("no 3y cloud price for Intel Gaudi 3")
    # a name that is no chip at all is an error before any work
    code, _, err = run(["hardware", "plan", "--hardware", "h100,a1000", "--compute", "1e24"], capsys)
    assert code == 2 and err.startswith("error: unknown hardware 'a1000'; closest matches: a100")


def test_costs_csv_has_power_and_energy_columns(capsys):
    code, out, _ = run(["costs", "--top", "3", "--since", "2023", "--format", "csv", "--samples", "200"], capsys)
    assert code == 0
    header = out.splitlines()[0].split(",")
    for col in ("peak_power_w", "energy_chip_j", "energy_facility_j", "emissions_kg_co2e", "reported_power_w"):
        assert col in header


def test_the_five_2026_training_chips_are_costed_plausibly(db):
    """A 70e9-parameter, 15e12-token run at utilization 0.35-0.45 on 1,024 chips (issue 15's table, docs/hardware.md):
    every chip gets all three costs, and each median rests on the cited prices."""
    from flopcast.service import run_plan

    plan = run_plan(FIVE, params=70e9, tokens=15e12, chips=1024, utilization=(0.35, 0.45), samples=2000, db=db)
    book = db.price_book
    for row in plan.rows:
        e = row.estimate
        assert e is not None and set(e.cost_usd) == {"cloud", "amortized", "acquisition"}, row.hardware
        hw = db.hardware.get(row.hardware)
        inputs = {r.name: r.central for r in e.inputs}
        # cloud: the median per chip-hour is the market's 3-year price near the run's date, inside the range of
        # the cited quotes (each moved to the date along the trend)
        price = e.cost_usd["cloud"].median / e.chip_hours.median
        est = book.market_cloud_price(hw, when=plan.start_date - dt.timedelta(days=60), tier="3y")
        assert min(est.adjusted_usd) * 0.9 <= price <= max(est.adjusted_usd) * 1.1, row.hardware
        # acquisition: 1,024 chips at the chip price the tables cite, with servers and 19% interconnect
        chip = inputs["chip_price_usd"]
        quotes = [x.price_usd for x in book.purchase_quotes(hw, server=False) + book.purchase_quotes(hw, server=True)]
        assert min(quotes) <= chip <= max(quotes), row.hardware
        per_chip = e.central["cost_usd.acquisition"] / 1024
        assert per_chip == pytest.approx(chip * inputs["server_overhead"] / (1 - 0.19), rel=1e-6)
        # amortized: below the acquisition (a few months of the cluster's life) and above zero
        assert 0 < e.cost_usd["amortized"].median < e.cost_usd["acquisition"].median


def test_docs_hardware_md_shows_the_plan_the_code_makes(db):
    # docs/hardware.md's table of the 70e9 x 15e12 run on the five 2026 chips, cell by cell as the code gives it
    # (default samples and seed, the start date the docs' command names), and the prices its notes cite
    from pathlib import Path

    from flopcast.formatting import format_range, format_value
    from flopcast.service import run_plan

    doc = (Path(__file__).resolve().parents[1] / "docs" / "hardware.md").read_text()
    assert "--utilization 0.35..0.45 --start-date 2026-12-01" in doc
    start = dt.date(2026, 12, 1)
    plan = run_plan(FIVE, params=70e9, tokens=15e12, chips=1024, utilization=(0.35, 0.45), start_date=start, db=db)

    def cell(s, interval):
        head = format_value(s.median, s.unit)
        return f"{head} ({format_range(s.p5, s.p95, s.unit)})" if interval and not s.is_point else head

    rows = [
        ("chips to hold the training state", "min_chips"),
        ("chip-hours", "chip_hours"),
        ("time on 1,024 chips", "duration_s"),
        ("peak power", "peak_power_w"),
        ("energy, chip-level", "energy_chip_j"),
        ("energy, facility-level", "energy_facility_j"),
        ("emissions (world-average grid)", "emissions_kg_co2e"),
    ]
    expected = ["| | " + " | ".join(r.estimate.hardware for r in plan.rows) + " |"]
    expected += [f"| {name} | " + " | ".join(cell(r.value(k), False) for r in plan.rows) + " |" for name, k in rows]
    for m, name in (
        ("cloud", "cost, cloud (3-year market price)"),
        ("amortized", "cost, amortized"),
        ("acquisition", "cost, acquisition"),
    ):
        expected.append(f"| {name} | " + " | ".join(cell(r.estimate.cost_usd[m], True) for r in plan.rows) + " |")
    lines = doc.splitlines()
    for line in expected:
        assert line in lines, line
    # the notes: each chip's 3-year market price at the start less 60 days, with its quotes, and its chip price
    book, text = db.price_book, " ".join(doc.split())
    quoted = {"h100": "H100 $1.82 an hour (14 quotes", "h200": "H200 $2.18 (8 quotes)", "b200": "B200 $2.91 (7)",
              "mi300x": "MI300X $1.71 (5", "tpu-v5p": "TPU v5p $0.89"}  # fmt: skip
    for r in plan.rows:
        hw = db.hardware.get(r.hardware)
        est = book.market_cloud_price(hw, when=start - dt.timedelta(days=60), tier="3y")
        words = quoted[r.hardware]
        assert words in text and f"${est.median_usd:.2f}" in words, r.hardware
        count = re.search(r"\((\d+)", words)  # the quotes it rests on, where the note counts them
        assert count is None or int(count.group(1)) == len(est.quotes), r.hardware
    chip = {r.hardware: {i.name: i.central for i in r.estimate.inputs}["chip_price_usd"] for r in plan.rows}
    per_gpu = plan.rows[0].estimate.central["cost_usd.acquisition"] / 1024
    assert f"(${chip['h100'] / 1e3:.1f}k a GPU, so ${per_gpu / 1e3:.1f}k)" in text
    for key in ("h200", "b200", "mi300x"):
        assert f"(${chip[key] / 1e3:.1f}k)" in text, key
    assert f"(${chip['tpu-v5p']:,.0f}, a chip, x1.64 for its server)" in text
