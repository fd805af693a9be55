"""Power, energy and emissions: the stage functions, every estimate's outputs, and the published figures."""

import statistics

import numpy as np
import pytest

from flopcast import ci, estimate
from flopcast import power as P
from flopcast.errors import InvalidInputError

J_PER_MWH = 3.6e9


def test_peak_power_is_chips_tdp_server_ratio_and_pue():
    # a DGX H100 draws 10.2 kW for 8 x 700 W GPUs: the 1.821 server ratio of Cottier et al.; PUE 1.1 on top
    assert P.cluster_peak_power_w(8, 700.0, server_power_ratio=1.821, pue=1.1) == pytest.approx(8 * 700 * 1.821 * 1.1)
    # arrays and broadcasts: 1,024 and 16,384 chips
    out = P.cluster_peak_power_w(
        np.array([1024, 16384]), 700.0, server_power_ratio=1.821, pue=np.array([[1.1], [1.25]])
    )
    assert out.shape == (2, 2) and out[1, 1] == pytest.approx(16384 * 700 * 1.821 * 1.25)
    with pytest.raises(InvalidInputError, match=r"pue=0\.9 is below 1"):
        P.cluster_peak_power_w(8, 700.0, server_power_ratio=1.8, pue=0.9)


def test_the_two_energy_conventions():
    # chip-level, Meta's convention: Llama 2 70B, 1,720,320 A100-hours x 400 W = 688.128 MWh
    assert P.chip_energy_j(1_720_320, 400.0) / J_PER_MWH == pytest.approx(688.128, rel=1e-12)
    # facility-level, Cottier et al.'s: x server ratio 2.031 x average power 0.75 x PUE 1.1
    e = P.facility_energy_j(1_720_320, 400.0, server_power_ratio=2.031, average_power_fraction=0.75, pue=1.1)
    assert e / J_PER_MWH == pytest.approx(688.128 * 2.031 * 0.75 * 1.1, rel=1e-12)
    with pytest.raises(InvalidInputError, match="average_power_fraction"):
        P.facility_energy_j(1.0, 400.0, server_power_ratio=2.0, average_power_fraction=1.5, pue=1.1)


def test_emissions_are_energy_times_grid_intensity():
    # Patterson et al. 2021, Table 4: GPT-3's 1,287 MWh at 0.429 kg CO2e/kWh = 552 tCO2e
    assert P.emissions_kg_co2e(1_287 * J_PER_MWH, 0.429) / 1e3 == pytest.approx(552.1, rel=1e-3)
    assert P.emissions_kg_co2e(J_PER_MWH, 0.0) == 0.0  # a zero-carbon grid is allowed
    with pytest.raises(InvalidInputError, match=r"grid_kg_co2e_per_kwh=-0\.1 must be >= 0"):
        P.emissions_kg_co2e(J_PER_MWH, -0.1)


def test_gpt3_energy_and_emissions_against_patterson():
    # Patterson et al. 2021 (arXiv 2104.10350): 1,287 MWh; flopcast's facility energy with Cottier et al.'s
    # constants is 3,552,000 h x 300 W x 1.667 x 0.75 x 1.25 = 1,665 MWh (1.29x: the paper measured 330 W
    # per chip with its host, at a PUE of 1.10); within 1.5x
    e = estimate("gpt-3", point=True)
    assert e.central["energy_facility_j"] / J_PER_MWH == pytest.approx(3_552_000 * 0.3 * 1.667 * 0.75 * 1.25 / 1000)
    assert 1 / 1.5 <= e.central["energy_facility_j"] / J_PER_MWH / 1_287 <= 1.5
    # at the paper's grid (0.429 kg/kWh, --grid patterson-gpt3): 1,665 MWh x 0.429 = 714 t, within 1.5x of 552 t
    g = estimate("gpt-3", point=True, grid="patterson-gpt3")
    assert g.central["emissions_kg_co2e"] == pytest.approx(e.central["energy_facility_j"] / 3.6e6 * 0.429)
    assert 1 / 1.5 <= g.central["emissions_kg_co2e"] / 552.1e3 <= 1.5
    # peak power: 10,000 x 300 W x 1.667 x PUE 1.25 = 6.25 MW (Epoch's database: 5.1 MW, at a lower PUE)
    assert e.central["peak_power_w"] == pytest.approx(10_000 * 300 * 1.667 * 1.25)
    assert e.reported_power_w == pytest.approx(5.10e6, rel=0.01)


def test_llama2_chip_level_energy_is_the_model_card():
    # Touvron et al. 2023: 1,720,320 GPU-hours at 400 W -> 688 MWh (they report 291.42 tCO2eq at 0.4235 kg/kWh)
    e = estimate("llama-2-70b", point=True, grid="meta-llama2")
    assert e.central["energy_chip_j"] / J_PER_MWH == pytest.approx(688.128, rel=0.05)
    assert e.central["energy_chip_j"] / 3.6e6 * 0.4235 / 1e3 == pytest.approx(291.42, rel=0.01)


def test_every_estimate_with_a_chip_has_power_with_intervals():
    e = estimate(
        params=70e9, tokens=15e12, hardware="h100", chips=1024, utilization=ci(0.35, 0.45, kind="beta"), samples=2000
    )
    for k in ("peak_power_w", "energy_chip_j", "energy_facility_j", "emissions_kg_co2e"):
        s = getattr(e, k)
        assert s is not None and s.p5 < s.median < s.p95, k
    # 1,024 x 700 W x 1.821 x PUE 1.25 (not a hyperscaler) = 1.63 MW at the central values
    assert e.central["peak_power_w"] == pytest.approx(1024 * 700 * 1.821 * 1.25)
    # compute only: no chip, no power
    c = estimate(params=70e9, tokens=15e12)
    assert c.peak_power_w is None and c.energy_facility_j is None


def test_the_grid_defaults_to_the_developers_country():
    e = estimate("gpt-3")  # OpenAI: the United States
    rec = next(r for r in e.inputs if r.name == "grid_kg_co2e_per_kwh")
    assert rec.central == pytest.approx(0.3835) and "United States" in rec.source and not rec.value.is_point
    fr = estimate("gpt-3", grid="france", point=True)
    assert next(r for r in fr.inputs if r.name == "grid_kg_co2e_per_kwh").central == pytest.approx(0.0442)
    given = estimate("gpt-3", grid=0.2, point=True)
    rec = next(r for r in given.inputs if r.name == "grid_kg_co2e_per_kwh")
    assert rec.central == 0.2 and rec.provenance == "user"
    with pytest.raises(Exception, match="unknown grid 'mars'"):
        estimate("gpt-3", grid="mars")
    with pytest.raises(InvalidInputError, match=r"grid=5 is outside 0-2 kg CO2e/kWh"):
        estimate("gpt-3", grid=5)


def test_a_chip_without_a_tdp_says_so_and_is_never_zero():
    # Google publishes no TDP for the TPU v5p: power uses the median TDP of the TPUs, imputed, with a note
    e = estimate(training_compute_flop=1e24, hardware="tpu-v5p", chips=1024, point=True)
    rec = next(r for r in e.inputs if r.name == "tdp_w")
    assert rec.provenance == "imputed" and rec.central > 0
    assert any("has no TDP in the chip tables" in n for n in e.notes)


def test_peak_power_against_epochs_training_power_draw(db):
    # Epoch's "Training power draw (W)": chips x TDP x 1.82 x a PUE near 1.1 (multi-chip runs); flopcast uses
    # Cottier et al.'s per-chip server ratios and PUE 1.1/1.25, so the median ratio sits near 1.15
    from flopcast.service import cost_table

    rows = cost_table(db=db, samples=64).result.estimates
    ratios = [e.peak_power_w.median / e.reported_power_w for e in rows if e.reported_power_w and e.peak_power_w]
    assert len(ratios) > 300
    assert 0.8 <= statistics.median(ratios) <= 1.25
