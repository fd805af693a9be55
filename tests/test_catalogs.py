"""Catalogs: schema, provenance, name resolution, Epoch's chip table, prices, price index."""

import datetime as dt

import pytest

from flopcast.catalogs import bundled_hardware, get_hardware, get_model, load_hardware, prices
from flopcast.catalogs.constants import constant, constants
from flopcast.catalogs.models import load_models
from flopcast.catalogs.price_index import bundled_price_index, load_price_index
from flopcast.errors import AmbiguousNameError, CatalogError, InvalidInputError, UnknownHardwareError, UnknownModelError

REQUIRED_CHIPS = [
    "k80",
    "p100",
    "v100-pcie-16gb",
    "v100-pcie-32gb",
    "v100-sxm2-16gb",
    "v100-sxm2-32gb",
    "t4",
    "a10g",
    "a100-pcie-40gb",
    "a100-pcie-80gb",
    "a100-sxm4-40gb",
    "a100-sxm4-80gb",
    "l4",
    "l40s",
    "h100-pcie",
    "h100-sxm",
    "h200",
    "b200",
    "tpu-v2",
    "tpu-v3",
    "tpu-v4",
    "tpu-v5e",
    "tpu-v5p",
    "tpu-v6e",
    "mi250x",
    "mi300x",
    "gaudi2",
    "gaudi3",
]
REQUIRED_MODELS = [
    "gpt-2",
    "gpt-3",
    "gopher",
    "chinchilla",
    "palm-540b",
    "opt-175b",
    "bloom-176b",
    "llama-65b",
    "llama-2-70b",
    "llama-3.1-405b",
    "gpt-4",
    "gemini-1.0-ultra",
    "stable-diffusion-v1",
]


@pytest.mark.parametrize("name", REQUIRED_CHIPS)
def test_required_chips_present_with_source(name):
    hw = get_hardware(name)
    assert hw.source.startswith("http") and hw.as_of
    assert hw.memory_bytes and hw.memory_bytes > 0


def test_every_row_has_source_and_dense_peaks():
    for hw in bundled_hardware():
        assert hw.source and hw.as_of, hw.key
        assert hw.peak_flop_per_s_by_precision, hw.key


@pytest.mark.parametrize(
    "alias, key",
    [
        ("a100", "a100-sxm4-80gb"),
        ("a100-80gb", "a100-sxm4-80gb"),
        ("A100 80GB", "a100-sxm4-80gb"),
        ("v100", "v100-sxm2-32gb"),
        ("h100", "h100-sxm"),
        ("tpu-v4", "tpu-v4"),
        ("TPU v4", "tpu-v4"),
        ("NVIDIA A100 SXM4 40 GB", "a100-sxm4-40gb"),
        ("nvidia a100 sxm4 40gb", "a100-sxm4-40gb"),
    ],
)
def test_lookup_by_alias(alias, key):
    assert get_hardware(alias).key == key


def test_family_names_say_which_variant():
    hw, note = bundled_hardware().resolve("v100")
    assert hw.name == "NVIDIA Tesla V100 SXM2 32 GB"
    assert "V100 SXM2 32 GB" in note


def test_datasheet_peaks_v100_a100_h100():
    # NVIDIA datasheets (dense): V100 SXM2 125 TFLOP/s tensor FP16; A100 312 bf16, 156 tf32;
    # H100 SXM 989.4 bf16 (1,979 with sparsity), 1,978.9 fp8 dense
    assert get_hardware("v100").peak_flop_per_s() == 125e12
    a100 = get_hardware("a100")
    assert a100.peak_flop_per_s() == 312e12 and a100.peak_flop_per_s("tf32") == 156e12
    h100 = get_hardware("h100")
    assert h100.peak_flop_per_s("bf16") == pytest.approx(989.4e12) and h100.peak_flop_per_s("fp8") == pytest.approx(
        1978.9e12
    )
    with pytest.raises(InvalidInputError, match="fp8"):
        get_hardware("v100").peak_flop_per_s("fp8")


def test_unknown_hardware_lists_closest():
    with pytest.raises(UnknownHardwareError, match="closest matches: a100") as exc:
        get_hardware("a1000")
    assert isinstance(exc.value, KeyError)


def test_ambiguous_hardware_name(tmp_path):
    text = (
        "key,name,family,family_default,aliases,manufacturer,type,release_date,source,as_of,peak_bf16_flop_per_s\n"
        "x1,Chip X One,x,true,chipx,Acme,GPU,2020-01-01,http://a,2026-01-01,1e14\n"
        "x2,Chip X Two,x2,true,Chip-X,Acme,GPU,2020-01-01,http://a,2026-01-01,1e14\n"
    )
    p = tmp_path / "hw.csv"
    p.write_text(text)
    cat = load_hardware(path=p)
    with pytest.raises(AmbiguousNameError, match="Chip X One, Chip X Two"):
        cat.get("chip x")


@pytest.mark.parametrize(
    "text, message",
    [
        ("key,name\nx,y\n", "missing column"),
        (
            "key,name,family,family_default,aliases,manufacturer,type,source,as_of,tdp_w\nx,X,x,true,,A,GPU,http://a,2026,-5\n",
            "finite positive",
        ),
        (
            "key,name,family,family_default,aliases,manufacturer,type,source,as_of,release_date\nx,X,x,true,,A,GPU,http://a,2026,2020-13-01\n",
            "not a date",
        ),
        (
            "key,name,family,family_default,aliases,manufacturer,type,source,as_of\nx,X,x,true,,A,GPU,,2026\n",
            "no source",
        ),
    ],
)
def test_bad_hardware_files(tmp_path, text, message):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_hardware(path=p)


def test_loader_takes_name_or_path_not_both(tmp_path):
    with pytest.raises(InvalidInputError, match="not both"):
        load_hardware(name="hardware.csv", path=tmp_path / "x.csv")
    with pytest.raises(CatalogError, match="does not exist"):
        load_hardware(path=tmp_path / "missing.csv")


def test_epoch_chip_table_extends_without_duplicates(epoch_dir):
    from flopcast.datasets.epoch import load_epoch_chips

    chips, report = load_epoch_chips(epoch_dir / "ml_hardware.csv")
    # 5,774 records (a stray carriage return inside one name makes naive readers count 5,775), of which 6 repeat
    # a name: each chip once
    assert report.records == 5774 and len(chips) == 5774 - 6
    merged = bundled_hardware().with_epoch_chips(chips)
    # a curated row stands for the Epoch rows it names: they are not added again
    taken = sum(len(h.epoch_names) for h in bundled_hardware())
    assert len(merged) == len(bundled_hardware()) + len(chips) - taken
    names = [h.name for h in merged]
    assert len(names) == len(set(names))
    # Epoch's row for the V100 variant GPT-3 used: tensor FP16 125 TFLOP/s, TDP 250 W (its chip table)
    v = merged.get("NVIDIA Tesla V100 DGXS 32 GB")
    assert v.peak_flop_per_s() == pytest.approx(125e12) and v.tdp_w == 250 and v.origin == "epoch"
    # Epoch's family names resolve to the family's first variant; a user's family name to the documented default
    assert merged.get("NVIDIA A100").key == "a100-sxm4-40gb" and merged.get("a100").key == "a100-sxm4-80gb"
    assert merged.get("NVIDIA V100").key == "v100-sxm2-16gb" and merged.get("NVIDIA P100").key == "p100-sxm2-16gb"
    # a consumer card's plain FP16 figure (1/64 rate) is not what training is costed at: FP32 is (Cottier et al.)
    gtx = merged.get("NVIDIA GeForce GTX 1080 Ti")
    assert gtx.default_precision() == "fp32" and gtx.peak_flop_per_s() == pytest.approx(11.34e12)


@pytest.mark.parametrize("name", REQUIRED_MODELS)
def test_required_models_present_with_source(name):
    m = get_model(name)
    assert m.source.startswith("http") and m.publication_date.year >= 2019


def test_model_facts_and_aliases():
    gpt3 = get_model("GPT-3 175B")
    assert gpt3.key == "gpt-3" and gpt3.params == 175e9 and gpt3.training_tokens == 300e9
    assert gpt3.training_compute_flop == 3.14e23 and gpt3.chips == 10_000 and gpt3.training_time_hours == 355.2
    assert get_model("opt-175b").utilization == pytest.approx(147 / 312, rel=1e-3)
    with pytest.raises(UnknownModelError, match="closest matches"):
        get_model("gpt-5x")


def test_bad_model_file(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text(
        "key,name,organization,publication_date,source,as_of,utilization\nm,M,O,2020-01-01,http://a,2026,1.5\n"
    )
    with pytest.raises(CatalogError, match=r"utilization=1\.5"):
        load_models(path=p)


def test_constants_have_sources_and_ranges():
    for c in constants().values():
        assert c.source.startswith("http"), c.name
        if c.low is not None:
            assert c.low <= c.value <= c.high or c.name == "interconnect_fraction", c.name
    assert constant("server_overhead", "a100").value == 1.66
    assert constant("server_overhead", "h100").value == 1.64  # falls back to .default
    assert constant("pue", "hyperscaler").value == 1.1


def test_purchase_and_cloud_price_rules():
    v100 = get_hardware("v100")
    pp = prices.purchase_price(v100)
    assert pp.price_usd_per_chip == 18_625 and pp.includes_server  # DGX-1, as Cottier et al. use
    cp = prices.cloud_price(v100, organization="OpenAI", on=dt.date(2019, 8, 2))
    assert (cp.vendor, cp.tier, cp.price_usd_per_chip_hour) == ("azure", "3y", 1.16)
    tpu = prices.cloud_price(get_hardware("tpu-v4"), organization="Anthropic", tier="on-demand")
    assert tpu.vendor == "gcp" and tpu.price_usd_per_chip_hour == 3.22
    # tier conversion with the vendor discount: AWS H100 on-demand $12.29 (2025-03) -> 3-year = 12.29 * (1 - 0.64)
    h = prices.cloud_price(get_hardware("h100"), vendor="aws", tier="3y", on=dt.date(2025, 6, 1))
    assert h.price_usd_per_chip_hour == pytest.approx(12.29 * 0.36)
    # after AWS's June 2025 cut the latest p5 price is $55.04 / 8 = $6.88 a GPU-hour
    h = prices.cloud_price(get_hardware("h100"), vendor="aws", tier="on-demand")
    assert h.price_usd_per_chip_hour == pytest.approx(6.88) and h.date >= dt.date(2025, 6, 1)
    # the bundled catalog's first H100 price: Raymond James's $25,000-30,000 of 2023-08 (a chip, no server)
    pp = prices.purchase_price(get_hardware("h100"))
    assert pp.price_usd_per_chip == 27_500 and not pp.includes_server
    with pytest.raises(InvalidInputError, match="tier"):
        prices.cloud_price(v100, tier="5y")


def test_electricity_prices():
    assert prices.electricity_price_usd_per_kwh(2020) == 0.0667
    assert prices.electricity_price_usd_per_kwh(2031) == 0.0826  # clamped to the last year


def test_bundled_cpi_u():
    idx = bundled_price_index()
    # BLS CPI-U annual averages: 2023 304.702 / 2020 258.811 = 1.1773
    assert idx.factor(2020, 2023) == pytest.approx(304.702 / 258.811, rel=1e-9)
    with pytest.raises(InvalidInputError, match="outside the price index"):
        idx.factor(2020, 2031)


def test_ppi_file_from_epoch(epoch_dir):
    ppi = load_price_index(epoch_dir / "price_index_PCU518210518210.csv")
    assert ppi.name == "PCU518210518210" and not ppi.annual
    assert ppi.value_at(dt.date(2000, 12, 15)) == 100.0  # the series' base month
    assert ppi.factor(dt.date(2020, 5, 28), 2023) > 1


def test_bad_price_index(tmp_path):
    p = tmp_path / "idx.csv"
    p.write_text("observation_date,A,B\n2020-01-01,1,2\n")
    with pytest.raises(CatalogError, match="one value column"):
        load_price_index(p)
    p.write_text("observation_date,A\n2020-01-01,-3\n")
    with pytest.raises(CatalogError, match="positive"):
        load_price_index(p)
