"""The money inputs of a run: cloud prices, hardware value, amortization and energy.

A mixin of the resolver (:mod:`flopcast.pipeline.resolve`): it adds the inputs that the
cost methods the settings ask for need.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from flopcast.catalogs import constants as K
from flopcast.catalogs.prices import electricity_price_usd_per_kwh, trend_price
from flopcast.errors import MissingInputError
from flopcast.pipeline.evidence import _factor, _is_hyperscaler, _scaled
from flopcast.uncertainty import Distribution, LogNormal, Normal, Point
from flopcast.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from flopcast.catalogs.hardware import Hardware
    from flopcast.datasets.database import Database
    from flopcast.datasets.records import ModelRecord
    from flopcast.pipeline.spec import InputRecord, RunSpec, Settings
    from flopcast.quantities import Quantity


class _MoneyInputs:
    """The resolver's money inputs (the attributes come from :class:`~flopcast.pipeline.resolve._Resolver`)."""

    # -- what the resolver provides (set in its __init__ and build(), before any money input)
    spec: RunSpec
    s: Settings
    db: Database
    #: the model record (None for a run described by the user alone)
    r: ModelRecord | None
    inputs: dict[str, InputRecord]
    notes: list[str]
    #: the chip (None for a compute-only run)
    hw: Hardware | None
    #: how chip-hours are reached (None: compute only, no cost)
    path: str | None
    #: the training start (prices and depreciation date from it)
    start: dt.date
    #: the publication date; the resolver sets it (to the start at the latest) before the money inputs
    pub: dt.date | None
    organization: str

    if TYPE_CHECKING:  # the resolver's method, declared for the type checker only

        def add(
            self, name: str, value: Quantity, provenance: str, source: str = "", central: float | None = None
        ) -> None: ...

    def _need_hardware(self) -> Hardware:
        """The chip; a MissingInputError where the run has no route to chip-hours."""
        if self.path is None:
            raise MissingInputError(getattr(self, "no_hardware_reason", "no hardware given (--hardware)"))
        assert self.hw is not None  # a route to chip-hours needs a chip (the resolver's _route)
        return self.hw

    def _publication(self) -> dt.date:
        assert self.pub is not None  # set by the resolver's _dates, which runs before the money inputs
        return self.pub

    def _cloud_inputs(self) -> None:
        """The cloud price: the market's at the run's date (every provider's dated quotes), or Cottier's rule."""
        from flopcast.catalogs.prices import ORGANIZATION

        hw = self._need_hardware()
        spec = self.spec
        if spec.price_usd_per_chip_hour is not None:
            self.add("price_usd_per_chip_hour", spec.price_usd_per_chip_hour, "user", "given")
            return
        gap = int(K.constant("training_start_gap_days").value)
        on = self.start - dt.timedelta(days=gap)
        book = self.db.price_book
        if self.s.cloud_vendor == ORGANIZATION:
            cp = book.cloud_price(hw, tier=self.s.cloud_tier, on=on, organization=self.organization)
            self.add(
                "price_usd_per_chip_hour",
                cp.price_usd_per_chip_hour,
                "reported",
                f"{cp.vendor} {cp.tier} price of {cp.date} (the developer's provider, Cottier et al.'s rule): "
                f"{cp.source}",
            )
            return
        est = book.market_cloud_price(hw, when=on, tier=self.s.cloud_tier, vendor=self.s.cloud_vendor)
        if est.extrapolated:
            self.notes.append(f"cloud price of {hw.name}: {est.describe()}")
        self.add(
            "price_usd_per_chip_hour",
            est.distribution(),
            "imputed" if est.extrapolated else "reported",
            f"{est.vendor} price on {on} (60 days before the training start): {est.describe()}; "
            f"nearest: {est.nearest.source}",
            est.median_usd,
        )

    def _hardware_value_inputs(self) -> None:
        """Chip value, server and interconnect overheads, depreciation (amortized and acquisition)."""
        hw = self._need_hardware()
        if "chip_price_usd" in self.inputs:
            return
        spec = self.spec
        variant = "tpu" if hw.is_tpu else "gpu"
        if spec.chip_price_usd is not None:
            self.add("chip_price_usd", spec.chip_price_usd, "user", "given")
            includes_server, price_date = False, self.start
        else:
            pp = self.db.price_book.purchase_price(hw)
            prov = "reported"
            if pp is None:
                pp = trend_price(hw, self.db.price_book, self.start)
                prov = "imputed"
            if pp is None:
                raise MissingInputError(f"no purchase price for {hw.name} in the price tables; give --chip-price")
            f = K.constant("chip_price_factor", variant)
            what = "server price per chip" if pp.includes_server else "chip price"
            self.add(
                "chip_price_usd",
                _scaled(pp.price_usd_per_chip, f.distribution()),
                prov,
                f"{what} of {pp.date}: {pp.notes or pp.source}; x{f.low:g}-{f.high:g}",
                pp.price_usd_per_chip,
            )
            includes_server, price_date = pp.includes_server, pp.date
        if includes_server:
            self.add("server_overhead", 1.0, "reported", "the price is a whole server's (DGX): overhead included")
        else:
            c = K.constant("server_overhead", hw.family)
            base = _factor("server_overhead", "default")
            dist: Distribution = (
                LogNormal(math.log(c.value), base.sigma) if isinstance(base, LogNormal) else Point(c.value)
            )
            self.add("server_overhead", dist, "default", f"{c.name} = {c.value:g}: {c.source}", c.value)
        self._constant("interconnect_fraction")
        if self.s.depreciation != "straight-line":
            self._constant("depreciation_oom_per_year")
        after = int(K.constant("acquisition_after_release_days").value)
        release = hw.release_date or price_date
        if hw.is_tpu:  # TPUs are not sold: in service from release (Cottier et al.'s rule)
            acquired, after = release, 0
        else:
            acquired = max(price_date, release + dt.timedelta(days=after))
        years = (self.start - acquired).days / DAYS_PER_YEAR
        shift = K.constant("acquisition_shift_days").distribution()
        dist = (
            Normal(years + shift.mean / DAYS_PER_YEAR, shift.sd / DAYS_PER_YEAR)
            if isinstance(shift, Normal)
            else Point(years)
        )
        self.add(
            "years_held",
            dist,
            "derived",
            (
                f"in service from release, {acquired} (TPUs are not sold)"
                if hw.is_tpu
                else f"acquired {acquired} (price date, or release + {after} days)"
            )
            + f", training start {self.start}",
            years,
        )
        self._depreciation_inputs()

    def _depreciation_inputs(self) -> None:
        """Straight-line book life and the cost of capital, when the settings ask for them."""
        s = self.s
        if s.depreciation == "straight-line":
            years = s.depreciation_years
            if years is None:
                c = K.constant("depreciation_years")
                self.add("depreciation_years", c.value, "default", f"{c.name} = {c.value:g}: {c.source}")
            else:
                self.add("depreciation_years", years, "user", "given (--depreciation-years)")
        if s.cost_of_capital > 0:
            self.add("cost_of_capital", s.cost_of_capital, "user", "given (--cost-of-capital)")

    def _acquisition_inputs(self) -> None:
        self._hardware_value_inputs()

    def _amortized_inputs(self) -> None:
        self._energy_inputs()
        self._hardware_value_inputs()
        year = self._publication().year
        price = electricity_price_usd_per_kwh(year)
        f = K.constant("electricity_price_factor")
        self.add(
            "usd_per_kwh",
            _scaled(price, f.distribution()),
            "reported",
            f"US industrial electricity price of {year} (EIA, nearest year in the table); x{f.low:g}-{f.high:g}",
            price,
        )

    def _energy_inputs(self) -> None:
        """The chip's TDP, server power per chip, average power and PUE (energy, power and emissions)."""
        if "tdp_w" in self.inputs:
            return
        hw = self._need_hardware()
        tdp, prov, src = hw.tdp_w, "reported", hw.source
        if tdp is None and hw.family == "tpu-v4":
            tdp, prov, src = K.constant("tpu_v4_tdp_w").value, "default", K.constant("tpu_v4_tdp_w").source
        if tdp is None:
            tdp, prov = self.db.hardware.median_tdp_w(tpu=hw.is_tpu), "imputed"
            src = f"median TDP of the {'TPUs' if hw.is_tpu else 'other chips'} in the chip tables"
            self.notes.append(f"{hw.name} has no TDP in the chip tables; power and energy use the {src}, {tdp:g} W")
        self.add("tdp_w", tdp, prov, src)
        self._constant("server_power_ratio", hw.family)
        self._constant("average_power_fraction", "tpu" if hw.is_tpu else "gpu")
        self._constant("pue", "hyperscaler" if _is_hyperscaler(self.organization) else "default")

    def _power_inputs(self) -> None:
        """The energy inputs and the grid's carbon intensity: every run with a chip gets power and emissions."""
        from flopcast.catalogs.grid import WORLD, grid_for_countries, grid_intensity

        self._energy_inputs()
        grid = self.s.grid
        if grid is not None and not isinstance(grid, str):
            self.add("grid_kg_co2e_per_kwh", float(grid), "user", "given (--grid)")
            return
        if grid is not None:  # a region asked for: used as given
            g = grid_intensity(grid)
            self.add("grid_kg_co2e_per_kwh", g.kg_co2e_per_kwh, "user", f"{g.name} {g.year} (--grid): {g.source}")
            return
        countries = self.r.countries if self.r is not None else ()
        g = grid_for_countries(countries) or grid_intensity(WORLD)
        if g.key == WORLD:
            why = "the world average" + (" (the developer's country is not in the catalog)" if countries else "")
        else:
            why = "the developer's country"
        f = K.constant("grid_intensity_factor")
        self.add(
            "grid_kg_co2e_per_kwh",
            _scaled(g.kg_co2e_per_kwh, f.distribution()),
            "default",
            f"{g.name} {g.year}, {why}: {g.source}; x{f.low:g}-{f.high:g} (the datacenter's grid may differ)",
            g.kg_co2e_per_kwh,
        )

    def _constant(self, name: str, variant: str | None = None) -> None:
        c = K.constant(name, variant)
        self.add(name, c.distribution(), "default", f"{c.name} = {c.value:g}: {c.source}", c.value)

    def _dollars(self) -> tuple[str, float]:
        year = self.s.year_dollars
        pub = self._publication()
        if year is None:
            return f"nominal USD of {pub:%Y-%m}", 1.0
        idx = self.s.price_index or (self.db.price_index if self.db is not None else None)
        if idx is None:
            from flopcast.catalogs.price_index import bundled_price_index

            idx = bundled_price_index()
        when: dt.date | int = pub
        if pub.year > idx.last_year:
            self.notes.append(
                f"dollars of {pub:%Y-%m} are treated as {idx.last_year} dollars, the last year of {idx.name}"
            )
            when = idx.last_year
        elif pub.year < idx.first_year:
            self.notes.append(
                f"dollars of {pub:%Y-%m} are treated as {idx.first_year} dollars, the first year of {idx.name}"
            )
            when = idx.first_year
        return f"{year} USD ({idx.name})", idx.factor(when, year)
