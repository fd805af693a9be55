"""The CLI: JSON fields, option names, errors are one line and exit 2 (README commands: test_fresh_clone.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flopcast.testing import run_cli as run

ROOT = Path(__file__).resolve().parents[1]


# every README command runs from a copy of the repository alone: tests/test_fresh_clone.py


def test_readme_has_two_quickstart_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [ln.split("#")[0].strip() for ln in block.strip().splitlines()] == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_estimate_json_fields(capsys):
    argv = ["estimate", "gpt-3", "--json", "--samples", "3000", "--seed", "1", "--cloud-vendor", "organization"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    d = json.loads(out)
    for key in ("training_compute_flop", "chip_hours", "duration_s", "peak_power_w", "energy_facility_j"):
        assert set(d[key]) >= {"median", "mean", "p5", "p95"}
    assert set(d["cost_usd"]) == {"cloud", "amortized", "acquisition"}
    # Cottier's method (the developer's provider), point estimate: $4,120,320 cloud (3,552,000 h x $1.16)
    assert d["cost_usd"]["cloud"]["central"] == pytest.approx(4_120_320, rel=1e-9)
    assert d["training_compute_flop"]["central"] == pytest.approx(3.14e23, rel=1e-9)


def test_estimate_ad_hoc_interval_flags(capsys):
    code, out, _ = run(
        [
            "estimate",
            "--compute",
            "3e23..4e23",
            "--hardware",
            "a100",
            "--utilization",
            "0.4",
            "--price-per-chip-hour",
            "2",
            "--method",
            "cloud",
            "--json",
            "--samples",
            "4000",
        ],
        capsys,
    )
    assert code == 0
    d = json.loads(out)
    # chip-hours median = 3.4641e23 / (312e12 * 0.4 * 3600) = 771,000 (median of the 90% CI is sqrt(3e23*4e23))
    assert d["chip_hours"]["median"] == pytest.approx((3e23 * 4e23) ** 0.5 / (312e12 * 0.4 * 3600), rel=0.01)
    assert d["cost_usd"]["cloud"]["median"] == pytest.approx(2 * d["chip_hours"]["median"], rel=0.01)


def test_days_and_year_dollars_flags(capsys, epoch_dir):
    # Cottier et al. 2024 report GPT-3 at about $2.2M in 2023 dollars (the database's PPI deflates by default; a
    # price-index file gives the same numbers)
    code, out, _ = run(["estimate", "gpt-3", "--point", "--json", "--year-dollars", "2023"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["cost_usd"]["amortized"]["median"] == pytest.approx(2.2e6, rel=0.05)
    code, out, _ = run(
        [
            "estimate",
            "gpt-3",
            "--point",
            "--json",
            "--year-dollars",
            "2023",
            "--price-index",
            str(epoch_dir / "price_index_PCU518210518210.csv"),
        ],
        capsys,
    )
    assert json.loads(out)["cost_usd"] == d["cost_usd"]
    code, out, _ = run(
        [
            "estimate",
            "--compute",
            "1e24",
            "--hardware",
            "a100",
            "--days",
            "60",
            "--method",
            "cloud",
            "--point",
            "--json",
        ],
        capsys,
    )
    d = json.loads(out)
    assert d["duration_s"]["median"] == pytest.approx(60 * 86400)


def test_one_option_name_across_commands():
    # the dollar year is --year-dollars in every command that prices anything; --method takes the registry's names

    from flopcast.cli.app import tree
    from flopcast.methods import METHOD_CHOICES

    click_app = tree()
    for name in ("estimate", "costs", "trend", "report"):
        opts = {o for p in click_app.commands[name].params for o in p.opts}
        assert "--year-dollars" in opts and "--year" not in opts, name
        assert "--samples" in opts and "--seed" in opts, name
    for name in ("estimate", "costs"):
        method = next(p for p in click_app.commands[name].params if p.name == "method")
        assert all(m in method.help for m in METHOD_CHOICES)


def test_sensitivity_table(capsys):
    code, out, _ = run(["estimate", "gpt-3", "--sensitivity", "--samples", "3000"], capsys)
    assert code == 0 and "What drives the spread of Cost, amortized hardware + energy" in out


def test_hardware_compare_v100_a100(capsys):
    # Cottier 2022: V100 -> A100 is 2.5x peak (125 vs 312 TFLOP/s) and 2.5x memory (32 vs 80 GB)
    code, out, _ = run(
        ["hardware", "compare", "v100", "a100", "--json", "--price-a", "1.0", "--price-b", "1.5"], capsys
    )
    assert code == 0
    d = json.loads(out)
    assert d["peak_flop_per_s_ratio"] == pytest.approx(312 / 125) and d["memory_bytes_ratio"] == pytest.approx(2.5)
    # 16 B x 175e9 = 2.8 TB sharded over every chip, 10% of each kept in reserve: ceil(2.8e12 / 28.8e9) = 98 V100
    # 32 GB, ceil(2.8e12 / 72e9) = 39 A100 80 GB
    assert (d["min_chips_a"], d["min_chips_b"]) == (98, 39)
    # $ per FLOP: (1.0 / 125e12) / (1.5 / 312e12) = 1.664x cheaper on the A100
    assert d["cost_per_flop_advantage"] == pytest.approx(312 / 125 / 1.5)


def test_hardware_show_and_list_json(capsys):
    code, out, _ = run(["hardware", "show", "h100", "--json"], capsys)
    d = json.loads(out)
    assert d["key"] == "h100-sxm" and "H100 SXM5 80 GB" in d["note"]
    code, out, _ = run(["hardware", "list", "--json"], capsys)
    assert code == 0
    assert len(json.loads(out)) >= 28


@pytest.mark.parametrize(
    "argv, message",
    [
        (["estimate", "gpt-3", "--utilization", "1.7"], "--utilization=1.7 is outside (0, 1]"),
        (["estimate", "gpt-3", "--params", "-5"], "--params=-5 must be > 0"),
        (["estimate", "gpt-3", "--params", "0"], "--params=0 must be > 0"),
        (["estimate", "gpt-3", "--params", "nan"], "not finite"),
        (["estimate", "gpt-3", "--params", "inf"], "not finite"),
        (["estimate", "gpt-3", "--params", "200..100"], "greater than high"),
        (["estimate", "gpt-3", "--params", "lots"], "is not a number"),
        (["estimate", "--hardware", "a1000", "--compute", "1e23"], "closest matches: a100"),
        (
            ["estimate", "--hardware", "tpu-v4", "--compute", "1e23", "--method", "cloud", "--cloud-vendor", "lambda"],
            "no 3y cloud price for Google TPU v4 from lambda in the price tables (the nearest 3y quote is gcp's",
        ),
        (
            [
                "estimate",
                "--params",
                "70e9",
                "--tokens",
                "2e12",
                "--hardware",
                "a100",
                "--chips",
                "1000",
                "--days",
                "30",
                "--utilization",
                "0.4",
            ],
            "imply 104% utilization",
        ),
        (["estimate", "gpt-3", "--method", "rent"], "method='rent' is not one of cloud, amortized, acquisition, all"),
        (["estimate", "gpt-3", "--samples", "1"], "samples=1 is outside 2..1,000,000"),
        (["estimate", "nosuchmodel"], "unknown model"),
        (["estimate", "gpt-3", "--hours", "10", "--days", "1"], "not both"),
        (["hardware", "show", "zzz"], "unknown hardware"),
        (["estimate", "--bogus"], "No such option"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, message, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_console_script_end_to_end():
    exe = Path(sys.executable).parent / "flopcast"
    r = subprocess.run([str(exe), "estimate", "gpt-3", "--utilization", "2"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("error: --utilization=2") and r.stderr.count("\n") == 1
    r = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "estimate" in r.stdout


def test_help_does_not_import_numpy():
    code = "import sys; import flopcast.cli.main; print('numpy' in sys.modules, 'pandas' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "False False"


def test_readme_python_example_runs(capsys):
    text = (ROOT / "README.md").read_text()
    block = text.split("```python", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    # the comment in the README shows what the first print gives (seed 0, 10,000 samples)
    line = next(ln for ln in block.splitlines() if ln.startswith("print(gpt3"))
    shown = line.split("#", 1)[1].strip()
    assert out.splitlines()[0] == shown


def test_price_index_needs_year(capsys, epoch_dir):
    code, _, err = run(
        ["estimate", "gpt-3", "--price-index", str(epoch_dir / "price_index_PCU518210518210.csv")], capsys
    )
    assert code == 2 and "a price index needs year_dollars (--year-dollars)" in err


def test_attention_convention_flag(capsys):
    vals = {}
    for mode in ("full", "causal", "none"):
        code, out, _ = run(
            [
                "estimate",
                "--params",
                "175e9",
                "--tokens",
                "300e9",
                "--hardware",
                "v100",
                "--chips",
                "10000",
                "--method",
                "cloud",
                "--point",
                "--json",
                "--attention",
                mode,
            ],
            capsys,
        )
        vals[mode] = json.loads(out)["compute_from_params_flop"]["median"]
    # without n_layers/d_attn on an ad-hoc run there is no attention term: all three agree at 6ND
    assert vals["full"] == vals["causal"] == vals["none"] == pytest.approx(3.15e23)
    # GPT-3's shape is in the curated overlay: PaLM's 12 L T d_attn per token in full, halved when causal
    expect = {
        "full": 3.15e23 + 12 * 96 * 2048 * 12288 * 300e9,
        "causal": 3.15e23 + 6 * 96 * 2048 * 12288 * 300e9,
        "none": 3.15e23,
    }
    for mode, value in expect.items():
        code, out, _ = run(["estimate", "gpt-3", "--point", "--json", "--attention", mode, "--method", "cloud"], capsys)
        assert code == 0
        assert json.loads(out)["compute_from_params_flop"]["median"] == pytest.approx(value, rel=1e-12)


def test_utilization_interval_is_a_beta(capsys):
    # a fraction's 90% interval 0.3..0.6 becomes a beta with those quantiles, never above 1
    code, out, _ = run(
        [
            "estimate",
            "--compute",
            "1e23",
            "--hardware",
            "a100",
            "--utilization",
            "0.3..0.6",
            "--method",
            "cloud",
            "--price-per-chip-hour",
            "2",
            "--json",
            "--samples",
            "2000",
        ],
        capsys,
    )
    assert code == 0
    u = next(r for r in json.loads(out)["inputs"] if r["name"] == "utilization")
    assert u["distribution"].startswith("beta") and u["p5"] == pytest.approx(0.3, abs=1e-6)


def test_moe_chip_hours_vendor_and_dates(capsys):
    # DeepSeek-V3-like: 6 * 37e9 active * 14.8e12 tokens = 3.2856e24 FLOP; reported 2.788M chip-hours
    code, out, err = run(
        [
            "estimate",
            "--params",
            "671e9",
            "--params-active",
            "37e9",
            "--tokens",
            "14.8e12",
            "--hardware",
            "h800",
            "--chip-hours",
            "2.788M",
            "--chips",
            "2048",
            "--price-per-chip-hour",
            "2",
            "--point",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["compute_from_params_flop"]["median"] == pytest.approx(6 * 37e9 * 14.8e12)
    assert d["cost_usd"]["cloud"]["median"] == pytest.approx(2 * 2.788e6)  # DeepSeek's own $5.576M
    assert d["memory_bytes"]["median"] == pytest.approx(16 * 671e9)  # every parameter is stored
    code, out, _ = run(
        [
            "estimate",
            "--compute",
            "1e23",
            "--hardware",
            "a100",
            "--method",
            "cloud",
            "--point",
            "--json",
            "--cloud-vendor",
            "organization",
            "--organization",
            "Microsoft",
            "--start-date",
            "2022-04-01",
        ],
        capsys,
    )
    rec = next(r for r in json.loads(out)["inputs"] if r["name"] == "price_usd_per_chip_hour")
    # looked up at start - 60 days = 2022-01-31: Azure A100 3-year price of 2022-01-20
    assert rec["central"] == 1.36 and "azure" in rec["source"]
    code, _, err = run(["estimate", "--compute", "1e23", "--hardware", "a100", "--start-date", "2022-13-01"], capsys)
    assert code == 2 and "--start-date='2022-13-01' is not a date" in err
    code, _, err = run(["estimate", "--compute", "1e23", "--hardware", "a100", "--cloud-vendor", "ibm"], capsys)
    assert code == 2 and "vendor='ibm'" in err


def test_organization_sets_pue(capsys):
    vals = {}
    for org in ("Google", "Startup"):
        code, out, _ = run(
            [
                "estimate",
                "--compute",
                "1e23",
                "--hardware",
                "a100",
                "--method",
                "amortized",
                "--chip-price",
                "15000",
                "--point",
                "--json",
                "--organization",
                org,
            ],
            capsys,
        )
        assert code == 0
        vals[org] = next(r for r in json.loads(out)["inputs"] if r["name"] == "pue")["central"]
    assert vals == {"Google": 1.1, "Startup": 1.25}  # Cottier et al. 2024: hyperscalers 1.1, others 1.25
