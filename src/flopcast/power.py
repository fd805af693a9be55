"""Power, energy and emissions of a run: stage functions, array-in/array-out.

Two energy conventions are in use and both are given:

* **chip-level**: chip-hours x chip TDP. Meta's Llama 2 model card and BigScience's BLOOM
  paper count energy this way (Llama 2 70B: 1,720,320 A100-hours x 400 W = 688 MWh);
* **facility-level**: chip-hours x TDP x server power per chip / chip TDP x average power
  as a fraction of TDP x PUE, the energy Cottier et al. 2024 (arXiv 2405.21015) price in the
  amortized method, and the one Patterson et al. 2021 (arXiv 2104.10350) report for GPT-3
  (1,287 MWh).

Peak power is what a datacenter must supply: chips x TDP x server power ratio x PUE (full
TDP, not the average draw). Emissions are facility energy x the grid's carbon intensity.
Units are SI: W, J, kg CO2e; kg CO2e per kWh for grid intensity, as grids publish it.
"""

from __future__ import annotations

import numpy as np

from flopcast.errors import InvalidInputError
from flopcast.units import SECONDS_PER_HOUR, FloatOrArray, check_fraction, check_positive

#: joules in a kilowatt-hour
J_PER_KWH = 3.6e6


def _product(*factors: FloatOrArray) -> np.ndarray:
    """The product of ``factors`` (broadcast), with one array allocated for the result (Monte Carlo sample
    arrays are large: each intermediate product would be another one)."""
    shape = np.broadcast_shapes(*(np.shape(f) for f in factors))
    out = np.empty(shape, dtype=float)
    np.multiply(factors[0], factors[1], out=out)
    for f in factors[2:]:
        np.multiply(out, f, out=out)
    return out


def _check_pue(pue: FloatOrArray) -> None:
    check_positive("pue", pue)
    if np.any(np.asarray(pue) < 1):
        raise InvalidInputError(f"pue={float(np.min(pue)):g} is below 1; power usage effectiveness is >= 1")


def cluster_peak_power_w(
    chips: FloatOrArray, tdp_w: FloatOrArray, *, server_power_ratio: FloatOrArray, pue: FloatOrArray
) -> np.ndarray:
    """The facility power a cluster needs at full load: chips x TDP x server/chip power x PUE, in W.

    >>> float(cluster_peak_power_w(8, 700.0, server_power_ratio=1.821, pue=1.0))  # a DGX H100: 10.2 kW
    10197.6
    """
    check_positive("chips", chips)
    check_positive("tdp_w", tdp_w)
    check_positive("server_power_ratio", server_power_ratio)
    _check_pue(pue)
    return _product(chips, tdp_w, server_power_ratio, pue)


def chip_energy_j(chip_hours: FloatOrArray, tdp_w: FloatOrArray) -> np.ndarray:
    """Chip-level energy: chip-hours x TDP, in J (the model-card convention).

    >>> round(float(chip_energy_j(1_720_320, 400.0)) / J_PER_KWH / 1000, 3)  # Llama 2 70B, MWh
    688.128
    """
    check_positive("chip_hours", chip_hours)
    check_positive("tdp_w", tdp_w)
    return _product(chip_hours, SECONDS_PER_HOUR, tdp_w)


def facility_energy_j(
    chip_hours: FloatOrArray,
    tdp_w: FloatOrArray,
    *,
    server_power_ratio: FloatOrArray,
    average_power_fraction: FloatOrArray,
    pue: FloatOrArray,
) -> np.ndarray:
    """Facility-level energy: chip energy x server/chip power x average power/TDP x PUE, in J (Cottier et al.)."""
    check_positive("chip_hours", chip_hours)
    check_positive("tdp_w", tdp_w)
    check_positive("server_power_ratio", server_power_ratio)
    check_fraction("average_power_fraction", average_power_fraction, what="average power as a fraction of TDP")
    _check_pue(pue)
    # the per-model factors first (small arrays), then the sample arrays
    return _product(np.multiply(tdp_w, server_power_ratio) * SECONDS_PER_HOUR, chip_hours, average_power_fraction, pue)


def emissions_kg_co2e(energy_j: FloatOrArray, grid_kg_co2e_per_kwh: FloatOrArray) -> np.ndarray:
    """Emissions of ``energy_j`` drawn from a grid of the given carbon intensity, in kg CO2e.

    >>> round(float(emissions_kg_co2e(1_287e3 * J_PER_KWH, 0.429)) / 1000)  # GPT-3 (Patterson et al.), t
    552
    """
    check_positive("energy_j", energy_j)
    arr = np.asarray(grid_kg_co2e_per_kwh, dtype=float)
    if np.isnan(arr).any() or (arr < 0).any():
        raise InvalidInputError(
            f"grid_kg_co2e_per_kwh={float(np.ravel(arr)[0]):g} must be >= 0 (kg CO2e per kWh of the grid)"
        )
    return _product(energy_j, arr / J_PER_KWH)
