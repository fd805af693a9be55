"""docs/power.md quotes what the code gives: the checks' table (GPT-3's and Llama 2 70B's energy and emissions) and
the median ratio of flopcast's peak power to Epoch's, overall, by chip family and for single-chip runs."""

import re
import statistics
from pathlib import Path

import pytest

from flopcast.service import MoneyOptions, cost_table, training_estimate

DOC = " ".join((Path(__file__).resolve().parents[1] / "docs" / "power.md").read_text().split())
J_PER_MWH = 3.6e9


def test_the_table_of_checks(db):
    gpt3 = training_estimate("gpt-3", db=db)
    e = gpt3.energy_facility_j
    # 3,552,000 V100-hours x 300 W x 1.667 x 0.75 x 1.25 = 1.6653e9 Wh = 1,665 MWh (the point estimate);
    # against Patterson et al.'s 1,287 MWh, 1.29x
    assert gpt3.central["energy_facility_j"] / J_PER_MWH == pytest.approx(3_552_000 * 300 * 1.667 * 0.75 * 1.25 / 1e6)
    ci = f"{e.p5 / J_PER_MWH:,.0f}-{e.p95 / J_PER_MWH:,.0f}"
    assert f"= {gpt3.central['energy_facility_j'] / J_PER_MWH:,.0f} MWh (1.29x; 90% CI {ci})" in DOC
    assert e.median / (1_287 * J_PER_MWH) == pytest.approx(1.29, abs=0.005)
    grid = training_estimate("gpt-3", db=db, money=MoneyOptions(grid="patterson-gpt3")).emissions_kg_co2e
    assert f"| {grid.median / 1e3:,.0f} tCO2e ({grid.median / 552.1e3:.2f}x) |" in DOC
    llama = training_estimate("llama-2-70b", db=db)
    # 1,720,320 A100-hours x 400 W = 688.128 MWh, chip-level
    assert llama.central["energy_chip_j"] / J_PER_MWH == pytest.approx(688.128)
    assert f"({llama.energy_facility_j.median / J_PER_MWH / 1e3:.2f} GWh with servers" in DOC
    meta = training_estimate("llama-2-70b", db=db, money=MoneyOptions(grid="meta-llama2")).emissions_kg_co2e
    assert f"`--grid meta-llama2` gives {meta.median / 1e3:.0f} tCO2e" in DOC


def test_the_ratio_to_epochs_power_draw(db):
    # the batch of flopcast validate's power-epoch-draw check (256 samples a model): the medians move in their
    # second decimal with the Monte Carlo, so each quoted figure is checked to 0.01
    res = cost_table(db=db, samples=256).result
    by_family: dict[str, list[float]] = {}
    everything, single = [], []
    for est in res.estimates:
        if not (est.reported_power_w and est.peak_power_w is not None):
            continue
        r = est.peak_power_w.median / est.reported_power_w
        everything.append(r)
        by_family.setdefault(db.hardware.get(est.hardware).family, []).append(r)
        if db.find(est.key).hardware_quantity == 1:
            single.append(r)
    m = re.search(r"models with both \| .* \| median ratio flopcast / Epoch \*\*([0-9.]+)\*\*", DOC)
    assert m and len(everything) == int(re.search(r"\"Training power draw \(W\)\", (\d+) models", DOC).group(1))
    assert float(m.group(1)) == pytest.approx(statistics.median(everything), abs=0.01)
    for family, label in (
        ("a100", "A100s"),
        ("h100", "H100s"),
        ("v100", "V100s"),
        ("tpu-v4", "TPU v4"),
        ("tpu-v3", "TPU v3"),
    ):
        quoted = re.search(rf"([0-9.]+) on {re.escape(label)}", DOC)
        assert quoted, label
        assert float(quoted.group(1)) == pytest.approx(statistics.median(by_family[family]), abs=0.01), label
    quoted = re.search(r"The (\d+) single-chip runs are about ([0-9.]+)x", DOC)
    assert quoted and int(quoted.group(1)) == len(single)
    assert float(quoted.group(2)) == pytest.approx(statistics.median(single), abs=0.05)
