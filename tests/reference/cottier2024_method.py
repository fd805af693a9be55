"""Independent re-implementation of the amortized hardware + energy training-cost method
of Cottier et al. (2024), "The rising costs of training frontier AI models"
(arXiv:2405.21015), as implemented in Epoch AI's public repository
``epoch-research/training-cost-trends``.

This module is a reference oracle for checking flopcast.  It imports nothing from
flopcast and uses only pandas and numpy.  No code was copied from Epoch's repository:
the rules below were read there and written again here.  Each rule says where it lives
in their code.

Which version of their code
===========================
The version used is the *paper-era root modules*, the ones behind the paper's
``cost_analysis.ipynb`` (setup ``estimation_method='hardware-capex-energy'``,
``compute_threshold_method='top_n'``, ``compute_threshold=10``, ``variant='original'``;
the table's model column is still called ``System``):

* ``cost.py`` (commit 20d1be1f): ``estimate_hardware_capex_energy``,
  ``estimate_hardware_capex_energy_cost``, ``estimate_chip_hours``, ``cluster_energy_cost``;
* ``prices.py`` (commit 35dba012): ``find_hardware_acquisition_price``,
  ``find_gpu_acquisition_price``, ``find_TPU_equivalent_acquisition_price``,
  ``get_training_start_date``, ``get_hardware_value_at_training_start``,
  ``depreciate_by_hardware_progress``, ``TPU_EQUIVALENT_RELEASE_PRICES``;
* ``hardware.py`` (commit 3c6aafac): ``GPU_HARWARE_ALIASES``, ``get_flop_per_second``,
  ``get_release_date``, ``get_server_cost_overhead``;
* ``energy.py`` (commit 2663ad6f): ``power_usage_effectiveness``, ``server_TDP_fraction``,
  ``chip_to_server_power``, ``energy_price``;
* ``parameters.py``: ``CLUSTER_INTERCONNECT_COST_FRACTION`` 0.19, ``MEDIAN_UTILIZATION``
  0.375, ``MEDIAN_TRAINING_TIME_DAYS`` 793.5/24, ``ML_GPU_PRICE_PERFORMANCE_OOMS_PER_YEAR``
  0.14, ``HOURS_PER_YEAR`` 24 x 365.25.  The root ``parameters.py`` versions the index
  holds are older drafts; these values are the ones ``cost.py`` (20d1be1f) needs and the
  ones repeated in ``cost_analysis_standalone.py`` and ``training_cost_trends/constants.py``;
  the May-2024 notebook ``cost_analysis_all_models.ipynb`` prints the 33.0625-day median;
* ``inflation.py`` (commit 3c6aafac): ``adjust_value_for_inflation``; the notebook
  converts to ``'2023-12-01'`` (``adjust_column_for_inflation(..., 'data/PCU518210518210.csv',
  '2023-12-01')`` in ``cost_analysis.ipynb``).

The newer package ``training_cost_trends/`` (and ``cost_analysis_standalone.py``) is a 2025
update: top-5 selection, fine-tunes skipped instead of adding the base model, energy prices
to 2025, inflation to 2025-06/2025-07 USD and "most common hardware per year" imputation
switched on.  Its defaults do not reproduce the paper, so it is not the default here; two of
its later choices are available as options (``impute_hardware=True``,
``energy_years="extended"``).

The rules, per model row
========================
0. Publication date is required (``data.py: load_data_for_cost_estimation`` drops rows
   without one).  No frontier (top-N) filter is applied here: every row is costed.
1. Training hardware (``prices.py: find_hardware_acquisition_price``): missing -> dropped;
   a value with a comma (several chip types) -> dropped.  The paper notebook calls the
   estimator without an imputation function, so missing hardware is *not* imputed by
   default.  ``imputation.py: most_common_impute_training_hardware`` (most common chip of
   the same publication year, TPUs and GPUs grouped apart, multi-valued cells split on
   ``','``, ties broken by the sorted first mode) is available with ``impute_hardware=True``.
   The KNN imputer (``imputation.py: knn_impute_pcd``) is not implemented: the paper's
   results do not use it.
2. Purchase price and acquisition date.
   * TPUs (``'TPU' in name``; ``prices.py: find_TPU_equivalent_acquisition_price``): a
     hard-coded equivalent price, v1 5463, v2 5054, v3 5276, v4 5167 USD; other TPUs ->
     dropped.  The price is multiplied by the server overhead (step 6) and the chip is
     taken as acquired on its release date in the chip table (``hardware.py:
     get_release_date``, exact name match; a name not in the table -> dropped).
   * GPUs (``prices.py: find_gpu_acquisition_price``): the first alias from
     ``A100, V100, H100, P100, K80, K40, Titan X, GTX 580, GTX TITAN, Titan Black``
     that is a (case-sensitive) substring of the chip name; none -> dropped.  Among the
     purchase prices whose ``Hardware model`` contains the alias, sorted by price date
     (pandas' default sort, so ties keep pandas' order), the first whose notes contain
     ``'DGX'`` is used, else the earliest.  Acquisition date = price date, but not earlier
     than release date + 90 days (``prices.py: find_hardware_acquisition_price``).  If the
     chosen price's notes contain ``'single-unit'`` (case-insensitive) the price is
     multiplied by the server overhead (step 6); DGX/HGX/other prices are used as they are.
3. Training start date (``prices.py: get_training_start_date``), by substring of the
   model name, first match wins: ``'Gemini Ultra'`` -> 2023-05-10 (the database now calls
   that model ``Gemini 1.0 Ultra``; that name is mapped to the rule, as Epoch's 2025 code
   does); ``'GPT-4'`` -> 2022-08-15 minus the training time (hours truncated to int;
   missing time -> dropped, their code would raise); ``'GPT-3.5'`` -> 2022-03-14;
   ``'GPT-3'`` -> 2019-10-01; otherwise publication date minus (training time + 60 days),
   the training time being the truncated reported hours or, if missing, the median
   793.5/24 = 33.0625 days (``parameters.py: MEDIAN_TRAINING_TIME_DAYS``).
   For GPUs the start is moved up to the acquisition date if it is earlier
   (``prices.py: get_hardware_value_at_training_start``); TPUs are not clamped.
4. Depreciation (``prices.py: depreciate_by_hardware_progress``): value at training start
   = price x 10^(-0.14 x whole days(start - acquisition) / 365.25).
5. Chip-hours (``cost.py: estimate_chip_hours``): the reported ``Training chip-hours``;
   else hardware quantity x training time (hours); else training compute / (peak FLOP/s x
   utilization) / 3600 with the row's utilization or the median 0.375
   (``parameters.py: MEDIAN_UTILIZATION``); else dropped.  Peak FLOP/s
   (``hardware.py: get_flop_per_second``): TPU v1 -> INT8 OP/s; otherwise the first
   non-empty of Tensor-FP16/BF16, TF32, FP16 (TPUs only), FP32.
6. Server overhead (``hardware.py: get_server_cost_overhead``): 1.66 if 'A100' in the chip
   name, 1.69 'V100', 1.54 'P100', else 1.64.
7. Amortized hardware (``cost.py: estimate_hardware_capex_energy_cost``): value x
   (0.14 x ln 10) / 8766 h x chip-hours; cluster interconnect = that x 0.19 / (1 - 0.19).
8. Energy (``cost.py: cluster_energy_cost`` with ``energy.py``): chip TDP from the chip
   table (TPU v4 with no TDP -> 373 W; otherwise no TDP -> dropped) x chip-to-server power
   (TPU v1 2.93, v2 1.64, v3 1.47, other TPU 1.56; H100 (10.2/8)/0.7, A100 (6.5/8)/0.4,
   V100 mean of (10/16)/0.3 and (1.5/4)/0.3, other GPU 1.8) x average-power fraction
   (TPU 0.43, GPU 0.75) x PUE (1.1 if the organization contains google, deepmind,
   microsoft, amazon, meta or facebook, case-insensitive; else 1.25) x chip-hours x the US
   industrial electricity price of the publication year (2015..2023 in the paper-era
   table; other years -> dropped, or with ``energy_years="extended"`` the later tables'
   2010..2014 and 2024..2025 values).
9. Base model (``cost.py: estimate_hardware_capex_energy_cost``, paper-era): if the row
   names a base model, the base model's own cost (recursively) is added; a base model not
   found by exact name, or not costable -> dropped.
10. Inflation (``inflation.py: adjust_value_for_inflation``): total x PPI(2023-12) /
    PPI(publication month), series PCU518210518210.  A publication month not in the index
    leaves the 2023 figure empty (their code would raise); the nominal figure stays.

Column mapping from the snapshot to the names their code reads
===============================================================
ai_models.csv: ``Model`` -> ``System``; ``Hardware utilization (MFU)`` ->
``Hardware utilization``; all others used (``Publication date``, ``Organization``,
``Training hardware``, ``Hardware quantity``, ``Training time (hours)``,
``Training chip-hours``, ``Training compute (FLOP)``, ``Base model``) are the same.
ml_hardware.csv: ``Hardware name`` -> ``Name of the hardware`` (their later code also calls
it ``Hardware name``); ``Release date``, ``TDP (W)`` and the FLOP/s columns are the same.
hardware_prices.csv and price_index_PCU518210518210.csv: same column names as their
``Hardware prices.csv`` and ``PCU518210518210.csv``.

Usage::

    python tests/reference/cottier2024_method.py OUT.csv [DATA_DIR]
"""

from __future__ import annotations

import math
import pathlib
import sys
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------------------
# Constants (parameters.py, prices.py, hardware.py, energy.py of the paper-era code)
# --------------------------------------------------------------------------------------
DAYS_PER_YEAR: float = 365.25
HOURS_PER_YEAR: float = 24 * DAYS_PER_YEAR  # 8766
SECONDS_PER_HOUR: float = 3600.0
INTERCONNECT_FRACTION: float = 0.19  # CLUSTER_INTERCONNECT_COST_FRACTION
MEDIAN_UTILIZATION: float = 0.375
MEDIAN_TRAINING_TIME_DAYS: float = 793.5 / 24  # 33.0625 days
PRICE_PERFORMANCE_OOMS_PER_YEAR: float = 0.14  # ML_GPU_PRICE_PERFORMANCE_OOMS_PER_YEAR
REPLACEMENTS_PER_YEAR: float = PRICE_PERFORMANCE_OOMS_PER_YEAR * math.log(10)
PUBLICATION_GAP = pd.Timedelta(days=60)  # training end -> publication
RELEASE_TO_FIRST_ACQUISITION = pd.Timedelta(days=90)
INFLATION_TARGET_MONTH: str = "2023-12-01"
PPI_SERIES: str = "PCU518210518210"
TPU_V4_FALLBACK_TDP_W: float = 373.0

TPU_EQUIVALENT_PRICE_USD: dict[str, float] = {
    "Google TPU v1": 5463.0,
    "Google TPU v2": 5054.0,
    "Google TPU v3": 5276.0,
    "Google TPU v4": 5167.0,
}
GPU_PRICE_ALIASES: tuple[str, ...] = (
    "A100",
    "V100",
    "H100",
    "P100",
    "K80",
    "K40",
    "Titan X",
    "GTX 580",
    "GTX TITAN",
    "Titan Black",
)
HYPERSCALER_KEYS: tuple[str, ...] = ("google", "deepmind", "microsoft", "amazon", "meta", "facebook")

# US industrial electricity price, USD/kWh, by publication year.
ENERGY_PRICE_PAPER: dict[int, float] = {
    2015: 0.0691,
    2016: 0.0676,
    2017: 0.0688,
    2018: 0.0692,
    2019: 0.0681,
    2020: 0.0667,
    2021: 0.0718,
    2022: 0.0832,
    2023: 0.0806,
}
# Years added in Epoch's later energy.py (2010..2014) and cost_analysis_standalone.py (2024, 2025).
ENERGY_PRICE_LATER_YEARS: dict[int, float] = {
    2010: 0.0677,
    2011: 0.0682,
    2012: 0.0667,
    2013: 0.0689,
    2014: 0.0710,
    2024: 0.0771,
    2025: 0.0826,
}

# Special training-start dates (prices.py: get_training_start_date), checked in this order.
# Names the database gave these models later, mapped onto the paper's rule.
RENAMED_FOR_START_RULE: dict[str, str] = {"Gemini 1.0 Ultra": "Gemini Ultra"}

FLOP_COLUMNS_GPU: tuple[str, ...] = (
    "Tensor-FP16/BF16 performance (FLOP/s)",
    "TF32 (TensorFloat-32) performance (FLOP/s)",
    "FP32 (single precision) performance (FLOP/s)",
)
FLOP_COLUMNS_TPU: tuple[str, ...] = (
    "Tensor-FP16/BF16 performance (FLOP/s)",
    "TF32 (TensorFloat-32) performance (FLOP/s)",
    "FP16 (half precision) performance (FLOP/s)",
    "FP32 (single precision) performance (FLOP/s)",
)
INT8_COLUMN: str = "INT8 performance (OP/s)"

PURCHASE_COL = "Price (hardware purchase)"

OUTPUT_COLUMNS: tuple[str, ...] = (
    "row",
    "model_key",
    "model",
    "organization",
    "publication_date",
    "hardware",
    "hardware_imputed",
    "price_usd",
    "price_usd_listed",
    "price_date",
    "price_source",
    "price_basis",
    "includes_server",
    "server_overhead",
    "acquisition_date",
    "training_start_date",
    "start_date_rule",
    "value_at_training_start_usd",
    "training_time_hours",
    "training_time_imputed",
    "training_time_days_for_dates",
    "hardware_quantity",
    "chip_hours",
    "chip_hours_source",
    "peak_flop_per_s",
    "utilization_used",
    "utilization_imputed",
    "chip_tdp_w",
    "pue",
    "energy_price_usd_per_kwh",
    "base_model",
    "own_run_cost_usd_nominal",
    "base_model_cost_usd_nominal",
    "chip_cost_usd_nominal",
    "other_server_cost_usd_nominal",
    "interconnect_usd_nominal",
    "energy_usd_nominal",
    "cost_amortized_usd_nominal",
    "inflation_factor_to_2023",
    "cost_amortized_usd_2023",
    "dropped_reason",
    "note",
)


class Dropped(Exception):
    """A rule of the method cannot produce a number for this row."""


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _pick(columns: pd.Index, *names: str) -> str | None:
    for name in names:
        if name in columns:
            return name
    return None


def server_overhead(chip: str) -> float:
    """hardware.py: get_server_cost_overhead."""
    if "A100" in chip:
        return 1.66
    if "V100" in chip:
        return 1.69
    if "P100" in chip:
        return 1.54
    return 1.64


def chip_to_server_power(chip: str) -> float:
    """energy.py: chip_to_server_power."""
    if "TPU" in chip:
        if "v1" in chip:
            return 2.93
        if "v2" in chip:
            return 1.64
        if "v3" in chip:
            return 1.47
        return 1.56
    if "H100" in chip:
        return (10.2 / 8) / 0.7
    if "A100" in chip:
        return (6.5 / 8) / 0.4
    if "V100" in chip:
        return ((10 / 16) / 0.3 + (1.5 / 4) / 0.3) / 2
    return 1.8


def average_power_fraction(chip: str) -> float:
    """energy.py: server_TDP_fraction."""
    return 0.43 if "TPU" in chip else 0.75


def power_usage_effectiveness(organization: str) -> float:
    """energy.py: power_usage_effectiveness."""
    low = organization.lower()
    return 1.1 if any(key in low for key in HYPERSCALER_KEYS) else 1.25


# --------------------------------------------------------------------------------------
# Data loading, with the column mapping
# --------------------------------------------------------------------------------------
def _load(data_dir: pathlib.Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    models = pd.read_csv(data_dir / "ai_models.csv", dtype={"Training compute (FLOP)": "float64"})
    rename: dict[str, str] = {}
    model_col = _pick(models.columns, "Model", "System")
    util_col = _pick(models.columns, "Hardware utilization (MFU)", "Hardware utilization")
    if model_col is None:
        raise KeyError("ai_models.csv has neither 'Model' nor 'System'")
    rename[model_col] = "Model"
    if util_col is not None:
        rename[util_col] = "Utilization"
    models = models.rename(columns=rename)
    for col in (
        "Utilization",
        "Training chip-hours",
        "Hardware quantity",
        "Training time (hours)",
        "Training compute (FLOP)",
        "Base model",
        "Organization",
        "Training hardware",
    ):
        if col not in models.columns:
            models[col] = np.nan
    for col in (
        "Utilization",
        "Training chip-hours",
        "Hardware quantity",
        "Training time (hours)",
        "Training compute (FLOP)",
    ):
        models[col] = pd.to_numeric(models[col], errors="coerce")
    models["Publication date"] = pd.to_datetime(models["Publication date"], errors="coerce")

    chips = pd.read_csv(data_dir / "ml_hardware.csv")
    chip_name_col = _pick(chips.columns, "Hardware name", "Name of the hardware")
    if chip_name_col is None:
        raise KeyError("ml_hardware.csv has no hardware-name column")
    chips = chips.rename(columns={chip_name_col: "Hardware name"})

    prices = pd.read_csv(data_dir / "hardware_prices.csv")
    prices.columns = [c.lstrip("\ufeff") for c in prices.columns]
    prices = prices.dropna(subset=["Price date"])
    prices["Price date"] = pd.to_datetime(prices["Price date"])
    prices[PURCHASE_COL] = pd.to_numeric(prices[PURCHASE_COL], errors="coerce")

    ppi_path = data_dir / "price_index_PCU518210518210.csv"
    if not ppi_path.exists():
        ppi_path = data_dir / "PCU518210518210.csv"
    ppi = pd.read_csv(ppi_path)
    date_col = _pick(ppi.columns, "observation_date", "DATE", "date")
    val_col = _pick(ppi.columns, PPI_SERIES, "value")
    ppi_series = pd.Series(
        pd.to_numeric(ppi[val_col], errors="coerce").to_numpy(), index=ppi[date_col].astype(str).str.slice(0, 10)
    )
    return models, chips, prices, ppi_series


class _Chips:
    """Chip table lookups by exact name (first row wins, as ``.values[0]`` does)."""

    def __init__(self, chips: pd.DataFrame) -> None:
        self.count = chips["Hardware name"].value_counts().to_dict()
        first = chips.drop_duplicates(subset=["Hardware name"], keep="first")
        self.rows: dict[str, Mapping[str, Any]] = {r["Hardware name"]: r for r in first.to_dict("records")}

    def row(self, name: str) -> Mapping[str, Any]:
        if name not in self.rows:
            raise Dropped(f"hardware '{name}' not in chip table")
        return self.rows[name]

    def release_date(self, name: str) -> pd.Timestamp:
        return pd.to_datetime(self.row(name).get("Release date"))

    def peak_flops(self, name: str) -> float:
        row = self.row(name)
        if "TPU v1" in name:
            value = row.get(INT8_COLUMN)
        else:
            value = np.nan
            for col in FLOP_COLUMNS_TPU if "TPU" in name else FLOP_COLUMNS_GPU:
                value = row.get(col)
                if not _missing(value):
                    break
        if _missing(value):
            raise Dropped(f"no peak FLOP/s for '{name}' (needed for compute-based chip-hours)")
        return float(value)

    def tdp_w(self, name: str) -> float:
        if self.count.get(name, 0) > 1:
            raise Dropped(f"'{name}' appears {self.count[name]} times in chip table (their TDP lookup raises)")
        value = self.row(name).get("TDP (W)") if name in self.rows else np.nan
        if _missing(value):
            if "TPU v4" in name:
                return TPU_V4_FALLBACK_TDP_W
            raise Dropped(f"no TDP for '{name}'")
        return float(value)


class _GpuPrices:
    """prices.py: find_gpu_acquisition_price, with a per-alias cache."""

    def __init__(self, prices: pd.DataFrame) -> None:
        # Sort the whole table by date first, then drop rows without a purchase price,
        # in that order, so that ties keep the order Epoch's pandas call gives them.
        self.table = prices.sort_values(by="Price date").dropna(subset=[PURCHASE_COL])
        self.cache: dict[str, dict[str, Any] | Dropped] = {}

    def choose(self, chip: str) -> tuple[str, dict[str, Any]]:
        alias = next((a for a in GPU_PRICE_ALIASES if a in chip), None)
        if alias is None:
            raise Dropped(f"no GPU price alias matches '{chip}'")
        if alias not in self.cache:
            self.cache[alias] = self._choose(alias)
        found = self.cache[alias]
        if isinstance(found, Dropped):
            raise found
        return alias, found

    def _choose(self, alias: str) -> dict[str, Any] | Dropped:
        models = self.table["Hardware model"].astype("string")
        matches = self.table[models.str.contains(alias, regex=False).fillna(False).astype(bool)]
        if matches.empty:
            return Dropped(f"no purchase price for alias '{alias}'")
        records = matches.to_dict("records")
        for rec in records:
            notes = rec.get("Notes")
            if _missing(notes):
                return Dropped(
                    f"purchase price row without notes met before a DGX row for alias '{alias}' (their code raises)"
                )
            if "DGX" in str(notes):
                return rec
        return records[0]


def _most_common_hardware(models: pd.DataFrame) -> pd.Series:
    """imputation.py: most_common_impute (target 'Training hardware'); option only."""
    hw = models["Training hardware"].copy()
    years = models["Publication date"].dt.year
    known = hw.notna() & years.notna()
    groups: dict[tuple[bool, int], list[str]] = {}
    for value, year in zip(hw[known], years[known], strict=True):
        key = ("TPU" in value, int(year))
        groups.setdefault(key, []).extend(value.split(","))
    filled = hw.copy()
    for key in sorted(groups):
        is_tpu, year = key
        mode = pd.Series(groups[key]).mode().iloc[0]
        is_tpu_row = hw.str.contains("TPU", regex=False)
        mask = (years == year) & ((is_tpu_row == is_tpu).fillna(False) | hw.isna())
        filled[mask & filled.isna()] = mode
    return filled


# --------------------------------------------------------------------------------------
# The per-row rules
# --------------------------------------------------------------------------------------
def _training_start(name: str, pub: pd.Timestamp, hours: float) -> tuple[pd.Timestamp, str, float | None]:
    """prices.py: get_training_start_date.  Returns (start, rule, days used for dates)."""
    rule_name = RENAMED_FOR_START_RULE.get(name, name)
    if "Gemini Ultra" in rule_name:
        return pd.Timestamp("2023-05-10"), "special: Gemini Ultra 2023-05-10", None
    if "GPT-4" in rule_name:
        if _missing(hours):
            raise Dropped("GPT-4 start-date rule needs the training time (their code raises)")
        return (
            pd.Timestamp("2022-08-15") - pd.Timedelta(hours=int(hours)),
            "special: GPT-4 2022-08-15 minus training time",
            None,
        )
    if "GPT-3.5" in rule_name:
        return pd.Timestamp("2022-03-14"), "special: GPT-3.5 2022-03-14", None
    if "GPT-3" in rule_name:
        return pd.Timestamp("2019-10-01"), "special: GPT-3 2019-10-01", None
    if _missing(hours):
        span = pd.Timedelta(days=MEDIAN_TRAINING_TIME_DAYS)
        days = MEDIAN_TRAINING_TIME_DAYS
    else:
        span = pd.Timedelta(hours=int(hours))
        days = span / pd.Timedelta(days=1)
    return pub - (span + PUBLICATION_GAP), "publication - (training time + 60 d)", days


class _Estimator:
    def __init__(
        self,
        models: pd.DataFrame,
        chips: pd.DataFrame,
        prices: pd.DataFrame,
        ppi: pd.Series,
        energy_prices: Mapping[int, float],
    ) -> None:
        self.records = models.to_dict("records")
        self.by_name: dict[str, list[int]] = {}
        for i, rec in enumerate(self.records):
            self.by_name.setdefault(rec["Model"], []).append(i)
        self.chips = _Chips(chips)
        self.gpu_prices = _GpuPrices(prices)
        self.ppi = ppi
        self.energy_prices = energy_prices
        self.own_cache: dict[int, dict[str, Any]] = {}

    # ---- steps 1-8 for one row ------------------------------------------------------
    def own_run(self, i: int) -> dict[str, Any]:
        """Cost of the row's own final run; fields filled as far as the rules get."""
        if i in self.own_cache:
            return self.own_cache[i]
        rec = self.records[i]
        out: dict[str, Any] = {}
        try:
            self._own_run(rec, out)
        except Dropped as exc:
            out["dropped_reason"] = str(exc)
        self.own_cache[i] = out
        return out

    def _own_run(self, rec: Mapping[str, Any], out: dict[str, Any]) -> None:
        pub = rec["Publication date"]
        if _missing(pub):
            raise Dropped("no publication date")
        chip = rec["Training hardware"]
        if _missing(chip):
            raise Dropped("no training hardware")
        chip = str(chip)
        if "," in chip:
            raise Dropped("several training hardware types")
        out["hardware"] = chip
        overhead = server_overhead(chip)
        out["server_overhead"] = overhead

        # Step 2: price and acquisition date
        if "TPU" in chip:
            if chip not in TPU_EQUIVALENT_PRICE_USD:
                raise Dropped(f"no TPU-equivalent price for '{chip}'")
            listed = TPU_EQUIVALENT_PRICE_USD[chip]
            price = listed * overhead
            acquisition = self.chips.release_date(chip)
            out.update(
                price_usd_listed=listed,
                price_date=acquisition,
                price_source="prices.py TPU_EQUIVALENT_RELEASE_PRICES",
                price_basis="TPU equivalent price x server overhead",
                includes_server=True,
            )
        else:
            alias, prow = self.gpu_prices.choose(chip)
            listed = float(prow[PURCHASE_COL])
            price_date = prow["Price date"]
            release = self.chips.release_date(chip)
            earliest = release + RELEASE_TO_FIRST_ACQUISITION
            acquisition = earliest if (not _missing(release) and price_date < earliest) else price_date
            notes = prow.get("Notes")
            if _missing(notes):
                raise Dropped(f"chosen purchase price for alias '{alias}' has no notes (their code raises)")
            single = "single-unit" in str(notes).lower()
            price = listed * overhead if single else listed
            is_dgx = "DGX" in str(notes)
            basis = (
                "single-unit price x server overhead"
                if single
                else "DGX server price per GPU"
                if is_dgx
                else "price as listed (no overhead)"
            )
            out.update(
                price_usd_listed=listed,
                price_date=price_date,
                price_source=f"{prow.get('Hardware model')} | {prow.get('Price source')}",
                price_basis=basis,
                includes_server=bool(single or is_dgx),
            )
        out["price_usd"] = price
        if _missing(acquisition):
            raise Dropped(f"no release date for '{chip}' (acquisition date unknown)")
        out["acquisition_date"] = acquisition

        # Step 3: training start
        hours = rec["Training time (hours)"]
        out["training_time_hours"] = hours
        start, rule, days = _training_start(str(rec["Model"]), pub, hours)
        out["start_date_rule"] = rule
        out["training_time_imputed"] = bool(days is not None and _missing(hours))
        out["training_time_days_for_dates"] = days
        if "TPU" not in chip and start < acquisition:
            start = acquisition
            out["start_date_rule"] = rule + "; moved up to acquisition date"
        out["training_start_date"] = start

        # Step 4: depreciation
        years = (start - acquisition).days / DAYS_PER_YEAR
        value = 10 ** (math.log10(price) - PRICE_PERFORMANCE_OOMS_PER_YEAR * years)
        out["value_at_training_start_usd"] = value

        # Step 5: chip-hours
        quantity = rec["Hardware quantity"]
        out["hardware_quantity"] = quantity
        if not _missing(rec["Training chip-hours"]):
            chip_hours = float(rec["Training chip-hours"])
            out["chip_hours_source"] = "reported"
        elif not _missing(quantity) and not _missing(hours):
            chip_hours = float(quantity) * float(hours)
            out["chip_hours_source"] = "chips x time"
        elif not _missing(rec["Training compute (FLOP)"]):
            flops = self.chips.peak_flops(chip)
            util = rec["Utilization"]
            out["utilization_imputed"] = _missing(util)
            util = MEDIAN_UTILIZATION if _missing(util) else float(util)
            out.update(peak_flop_per_s=flops, utilization_used=util)
            chip_hours = float(rec["Training compute (FLOP)"]) / (flops * util) / SECONDS_PER_HOUR
            out["chip_hours_source"] = "compute"
        else:
            raise Dropped("no chip-hours (needs chip-hours, chips and time, or compute)")
        if not (chip_hours > 0 and math.isfinite(chip_hours)):
            raise Dropped(f"chip-hours not a positive number ({chip_hours})")
        out["chip_hours"] = chip_hours

        # Step 7: amortized hardware and interconnect
        hardware = value * REPLACEMENTS_PER_YEAR / HOURS_PER_YEAR * chip_hours
        interconnect = hardware * INTERCONNECT_FRACTION / (1 - INTERCONNECT_FRACTION)

        # Step 8: energy
        tdp = self.chips.tdp_w(chip)
        out["chip_tdp_w"] = tdp
        org = rec["Organization"]
        if _missing(org):
            raise Dropped("no organization (PUE rule needs one; their code raises)")
        pue = power_usage_effectiveness(str(org))
        out["pue"] = pue
        year = int(pub.year)
        if year not in self.energy_prices:
            raise Dropped(f"no electricity price for publication year {year}")
        kwh_price = self.energy_prices[year]
        out["energy_price_usd_per_kwh"] = kwh_price
        kw = tdp / 1000 * chip_to_server_power(chip) * average_power_fraction(chip) * pue
        energy = kw * chip_hours * kwh_price

        chip_part = hardware / overhead
        out["components"] = np.array([chip_part, hardware - chip_part, interconnect, energy])

    # ---- step 9: base model -------------------------------------------------------
    def total(self, i: int, seen: frozenset[int] = frozenset()) -> tuple[np.ndarray | None, str]:
        own = self.own_run(i)
        if "dropped_reason" in own:
            return None, own["dropped_reason"]
        parts = own["components"].copy()
        base = self.records[i]["Base model"]
        if _missing(base):
            return parts, ""
        hits = self.by_name.get(str(base), [])
        if not hits:
            return None, f"base model '{base}' not in database"
        if len(hits) > 1:
            return None, f"base model name '{base}' is ambiguous"
        j = hits[0]
        if j in seen or j == i:
            return None, f"base model chain loops at '{base}'"
        base_parts, why = self.total(j, seen | {i})
        if base_parts is None:
            return None, f"base model '{base}' not costable: {why}"
        return parts + base_parts, ""

    def inflation_factor(self, pub: pd.Timestamp) -> float:
        if _missing(pub):
            return float("nan")
        source = f"{pub.year:04d}-{pub.month:02d}-01"
        if source not in self.ppi.index or INFLATION_TARGET_MONTH not in self.ppi.index:
            return float("nan")
        return float(self.ppi[INFLATION_TARGET_MONTH] / self.ppi[source])


def amortized_costs(
    data_dir: str | pathlib.Path,
    *,
    impute_hardware: bool = False,
    energy_years: Literal["paper", "extended"] = "paper",
) -> pd.DataFrame:
    """Cost every row of Epoch's model table with the paper's amortized hardware+energy rules.

    Returns one row per row of ``ai_models.csv`` (same order), with the intermediate values,
    the nominal and 2023-USD (December 2023) costs, and ``dropped_reason`` (empty when a
    cost was computed).  ``impute_hardware`` turns on Epoch's later most-common-hardware
    imputation; ``energy_years="extended"`` adds Epoch's later 2010-2014 and 2024-2025
    electricity prices.  Neither is used for the paper's results.
    """
    data_dir = pathlib.Path(data_dir)
    models, chips, prices, ppi = _load(data_dir)
    models["Hardware imputed"] = False
    if impute_hardware:
        filled = _most_common_hardware(models)
        models["Hardware imputed"] = models["Training hardware"].isna() & filled.notna()
        models["Training hardware"] = filled
    energy_prices = dict(ENERGY_PRICE_PAPER)
    if energy_years == "extended":
        energy_prices.update(ENERGY_PRICE_LATER_YEARS)
    est = _Estimator(models, chips, prices, ppi, energy_prices)

    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(est.records):
        own = est.own_run(i)
        parts, why = est.total(i)
        name = rec["Model"]
        row: dict[str, Any] = dict.fromkeys(OUTPUT_COLUMNS, np.nan)
        row.update({k: v for k, v in own.items() if k in row})
        org = rec["Organization"]
        row.update(
            row=i + 1,
            model_key=f"{name} [row {i + 1}]",
            model=name,
            organization=None if _missing(org) else org,
            publication_date=rec["Publication date"],
            hardware=own.get("hardware", rec["Training hardware"]),
            hardware_imputed=bool(rec["Hardware imputed"]),
            base_model=rec["Base model"],
            dropped_reason=why,
            note="",
        )
        if "components" in own:
            row["own_run_cost_usd_nominal"] = float(own["components"].sum())
        if parts is not None:
            total = float(parts.sum())
            base_cost = total - row["own_run_cost_usd_nominal"]
            factor = est.inflation_factor(rec["Publication date"])
            row.update(
                chip_cost_usd_nominal=float(parts[0]),
                other_server_cost_usd_nominal=float(parts[1]),
                interconnect_usd_nominal=float(parts[2]),
                energy_usd_nominal=float(parts[3]),
                base_model_cost_usd_nominal=base_cost if not _missing(rec["Base model"]) else 0.0,
                cost_amortized_usd_nominal=total,
                inflation_factor_to_2023=factor,
                cost_amortized_usd_2023=total * factor,
            )
            if not math.isfinite(factor):
                row["note"] = "publication month not in the PPI index: no 2023-USD figure"
        rows.append(row)

    out = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
    for col in ("publication_date", "price_date", "acquisition_date", "training_start_date"):
        out[col] = pd.to_datetime(out[col])
    for col in ("includes_server", "training_time_imputed", "utilization_imputed"):
        out[col] = out[col].astype("boolean")
    return out


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: cottier2024_method.py OUT.csv [DATA_DIR] [--impute-hardware] [--extended-energy]")
        return 0 if args else 2
    flags = {a for a in args if a.startswith("--")}
    pos = [a for a in args if not a.startswith("--")]
    out_path = pathlib.Path(pos[0])
    import gzip
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cottier-") as tmp:
        if len(pos) > 1:
            data_dir = pathlib.Path(pos[1])
        else:  # the snapshot embedded in flopcast, decompressed
            data_dir = pathlib.Path(tmp)
            embedded = pathlib.Path(__file__).resolve().parents[2] / "src" / "flopcast" / "datasets" / "embedded"
            for f in embedded.glob("*.csv.gz"):
                (data_dir / f.name.removesuffix(".gz")).write_bytes(gzip.decompress(f.read_bytes()))
        table = amortized_costs(
            data_dir,
            impute_hardware="--impute-hardware" in flags,
            energy_years="extended" if "--extended-energy" in flags else "paper",
        )
    table.to_csv(out_path, index=False)
    costed = int((table["dropped_reason"] == "").sum())
    print(f"wrote {len(table)} rows to {out_path}; {costed} costed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
