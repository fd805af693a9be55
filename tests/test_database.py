"""The database inside the package: the embedded snapshot, where data come from, the curated overlay,
hardware matching, fine-tunes, dataset units and imputation."""

import datetime as dt
import gzip
import hashlib
import json

import pytest

from flopcast.datasets.database import TOKENS_PER_WORD, dataset_tokens, load_database
from flopcast.datasets.epoch import load_epoch_models
from flopcast.datasets.imputation import Imputer
from flopcast.datasets.records import ModelRecord
from flopcast.datasets.source import embedded_dir, embedded_files, embedded_manifest, resolve_source
from flopcast.errors import CatalogError, InvalidInputError, UnknownModelError
from flopcast.pipeline import estimate, estimate_records
from flopcast.selection import frontier_mask, select, top_meaning

#: every distinct value of "Training hardware" in the embedded snapshot, and the catalog chip it resolves to;
#: None where the chip tables give no FLOP/s for it (these are CPUs; "Intel A100" is Epoch's row for a 2007
#: 3 W Intel processor, named by one 2023 model that trained on "128 Intel A100"), so no chip-hours come from it
HARDWARE = {
    "AMD EPYC 7413": None,  # amd-epyc-7413: no FLOP/s in Epoch's chip table
    "AMD Radeon Instinct MI250": "amd-radeon-instinct-mi250",
    "AMD Radeon Instinct MI250X": "mi250x",
    "Amazon Trainium1": "amazon-trainium1",
    "Cerebras CS-2": "cerebras-cs-2",
    "Google TPU v1": "google-tpu-v1",
    "Google TPU v2": "tpu-v2",
    "Google TPU v3": "tpu-v3",
    "Google TPU v4": "tpu-v4",
    "Google TPU v5e": "tpu-v5e",
    "Google TPU v5p": "tpu-v5p",
    "Google TPU v6e Trillium": "tpu-v6e",
    "Huawei Ascend 910": "huawei-ascend-910",
    "Huawei Ascend 910B": "huawei-ascend-910b",
    "Intel A100": None,  # intel-a100: no FLOP/s in Epoch's chip table
    "Intel Core 2 Quad Q9450": None,  # intel-core-2-quad-q9450: no FLOP/s in Epoch's chip table
    "Intel Core i5-11600K": None,  # intel-core-i5-11600k-2: no FLOP/s in Epoch's chip table
    "NVIDIA A10 PCIe": "nvidia-a10-pcie",
    "NVIDIA A100": "a100-sxm4-40gb",
    "NVIDIA A100 PCIe": "a100-pcie-40gb",
    "NVIDIA A100 SXM4 40 GB": "a100-sxm4-40gb",
    "NVIDIA A100 SXM4 80 GB": "a100-sxm4-80gb",
    "NVIDIA A10G": "a10g",
    "NVIDIA A30 PCIe": "nvidia-a30-pcie",
    "NVIDIA A40 PCIe": "nvidia-a40-pcie",
    "NVIDIA A800 PCIe 40 GB": "nvidia-a800-pcie-40-gb",
    "NVIDIA A800 PCIe 80 GB": "nvidia-a800-pcie-80-gb",
    "NVIDIA A800 SXM": "nvidia-a800-sxm",
    "NVIDIA GTX Titan Black": "nvidia-gtx-titan-black",
    "NVIDIA GeForce GTX 1080": "nvidia-geforce-gtx-1080",
    "NVIDIA GeForce GTX 1080 Ti": "nvidia-geforce-gtx-1080-ti",
    "NVIDIA GeForce GTX 280": "nvidia-geforce-gtx-280",
    "NVIDIA GeForce GTX 285": "nvidia-geforce-gtx-285",
    "NVIDIA GeForce GTX 580": "nvidia-geforce-gtx-580",
    "NVIDIA GeForce GTX 780": "nvidia-geforce-gtx-780",
    "NVIDIA GeForce GTX 980": "nvidia-geforce-gtx-980",
    "NVIDIA GeForce GTX TITAN": "nvidia-geforce-gtx-titan",
    "NVIDIA GeForce GTX TITAN X": "nvidia-geforce-gtx-titan-x",
    "NVIDIA GeForce RTX 2080": "nvidia-geforce-rtx-2080",
    "NVIDIA GeForce RTX 2080 Ti 11GB": "nvidia-geforce-rtx-2080-ti-11gb",
    "NVIDIA GeForce RTX 3060": "nvidia-geforce-rtx-3060",
    "NVIDIA GeForce RTX 3070": "nvidia-geforce-rtx-3070",
    "NVIDIA GeForce RTX 3080": "nvidia-geforce-rtx-3080",
    "NVIDIA GeForce RTX 3090": "nvidia-geforce-rtx-3090",
    "NVIDIA GeForce RTX 3090 Ti": "nvidia-geforce-rtx-3090-ti",
    "NVIDIA GeForce RTX 4060 Ti": "nvidia-geforce-rtx-4060-ti",
    "NVIDIA GeForce RTX 4090": "nvidia-geforce-rtx-4090",
    "NVIDIA H100 NVL": "h100-nvl",
    "NVIDIA H100 PCIe": "h100-pcie",
    "NVIDIA H100 SXM5 80GB": "h100-sxm",
    "NVIDIA H800 SXM5": "h800-sxm",
    "NVIDIA M40": "nvidia-m40",
    "NVIDIA P100": "p100-sxm2-16gb",
    "NVIDIA P40": "nvidia-p40",
    "NVIDIA Quadro GP100": "nvidia-quadro-gp100",
    "NVIDIA Quadro K4000": "nvidia-quadro-k4000",
    "NVIDIA Quadro K6000": "nvidia-quadro-k6000",
    "NVIDIA Quadro P600": "nvidia-quadro-p600",
    "NVIDIA Quadro RTX 4000": "nvidia-quadro-rtx-4000",
    "NVIDIA Quadro RTX 5000": "nvidia-quadro-rtx-5000",
    "NVIDIA Quadro RTX 6000": "nvidia-quadro-rtx-6000",
    "NVIDIA Quadro RTX 8000": "nvidia-quadro-rtx-8000",
    "NVIDIA RTX 6000 Ada Generation": "nvidia-rtx-6000-ada-generation",
    "NVIDIA RTX A1000": "nvidia-rtx-a1000",
    "NVIDIA RTX A5000": "nvidia-rtx-a5000",
    "NVIDIA RTX A6000": "nvidia-rtx-a6000",
    "NVIDIA TITAN Xp": "nvidia-titan-xp",
    "NVIDIA Tesla C2075": "nvidia-tesla-c2075",
    "NVIDIA Tesla K20X": "nvidia-tesla-k20x",
    "NVIDIA Tesla K20c": "nvidia-tesla-k20c",
    "NVIDIA Tesla K40s": "nvidia-tesla-k40s",
    "NVIDIA Tesla K40t": "nvidia-tesla-k40t",
    "NVIDIA Tesla K80": "k80",
    "NVIDIA Tesla P100 PCIe 16GB": "p100-pcie-16gb",
    "NVIDIA Tesla T4": "t4",
    "NVIDIA Tesla V100 DGXS 16 GB": "nvidia-tesla-v100-dgxs-16-gb",
    "NVIDIA Tesla V100 DGXS 32 GB": "nvidia-tesla-v100-dgxs-32-gb",
    "NVIDIA Tesla V100 PCIe 16 GB": "v100-pcie-16gb",
    "NVIDIA Tesla V100 PCIe 32 GB": "v100-pcie-32gb",
    "NVIDIA Tesla V100 SXM2": "v100-sxm2-16gb",
    "NVIDIA Tesla V100S PCIe 32 GB": "nvidia-tesla-v100s-pcie-32-gb",
    "NVIDIA Titan V": "nvidia-titan-v",
    "NVIDIA V100": "v100-sxm2-16gb",
}


def test_embedded_snapshot_is_the_shared_one_with_its_date_and_credit():
    man = embedded_manifest()
    files = embedded_files()
    assert set(files) == {"models", "hardware", "prices", "price_index"}
    for kind, path in files.items():
        # the files are Epoch's as published (compressed only): the manifest pins their SHA-256
        assert hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() == _sha(kind)
    # the data's own date is the newest "Last modified" of the models table, not a file's time
    models, _ = load_epoch_models(files["models"])
    assert max(m.last_modified for m in models if m.last_modified).isoformat() == man.data_date == "2025-06-20"
    readme = (embedded_dir() / "README.md").read_text()
    assert "CC BY 4.0" in readme and "Epoch AI" in readme and "2025-06-20" in readme
    assert "https://epoch.ai/data/all_ai_models.csv" in readme


def _sha(kind):
    return json.loads((embedded_dir() / "manifest.json").read_text())["sha256"][kind]


def test_source_order(tmp_path, monkeypatch, epoch_dir):
    from flopcast.datasets import cache as cache_mod

    monkeypatch.setenv("FLOPCAST_CACHE_DIR", str(tmp_path / "cache"))
    src = resolve_source(None)
    assert src.kind == "embedded" and src.describe() == (
        "Epoch AI database, embedded snapshot of June 2025 (data of 2025-06-20)"
    )
    assert resolve_source(epoch_dir).kind == "data-dir"
    assert resolve_source("embedded").kind == "embedded"
    with pytest.raises(InvalidInputError, match="nothing is cached"):
        resolve_source("cache")
    with pytest.raises(CatalogError, match="is not a folder"):
        resolve_source(str(tmp_path / "nowhere"))
    # a pulled cache wins when it is newer; its date is the pull's; what it lacks comes from the embedded copy
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "all_ai_models.csv").write_bytes((epoch_dir / "ai_models.csv").read_bytes())
    entry = cache_mod.CachedFile(
        "all_ai_models.csv", "models", "http://x", "2026-11-01T00:00:00Z", 1, 1, "0", cache / "all_ai_models.csv", True
    )
    monkeypatch.setattr(cache_mod, "status", lambda dest=None: [entry])
    src = resolve_source(None)
    assert src.kind == "cache" and src.data_date == "2026-11-01"
    assert set(src.filled_in) == {"hardware", "prices", "price_index"}
    assert "from the embedded snapshot" in src.describe()
    # an older cache loses to the embedded snapshot
    old = cache_mod.CachedFile(
        "all_ai_models.csv", "models", "http://x", "2025-01-01T00:00:00Z", 1, 1, "0", cache / "all_ai_models.csv", True
    )
    monkeypatch.setattr(cache_mod, "status", lambda dest=None: [old])
    assert resolve_source(None).kind == "embedded"


def test_a_data_folder_takes_its_date_from_the_data(epoch_dir):
    db = load_database(str(epoch_dir))
    assert db.data_date == "2025-06-20" and f"in {epoch_dir}" in db.describe()
    assert len(db.records) == 1893


def test_every_named_chip_resolves(db):
    models, _ = load_epoch_models(embedded_files()["models"])
    names = {n for m in models for n in m.training_hardware}
    assert names == set(HARDWARE), sorted(names ^ set(HARDWARE))
    for name, key in HARDWARE.items():
        hw = db.hardware.find(name)
        assert hw is not None, name
        if key is None:
            assert hw.peak_for_cost() is None and hw.type == "CPU", name
        else:
            assert hw.key == key and hw.peak_for_cost() is not None, name


def test_curated_overlay_corrects_and_completes_epoch_rows(db):
    gpt3 = db.find("gpt-3")
    # one record: Epoch's row (its name), corrected by the curated row (its key and citations)
    assert gpt3.name == "GPT-3 175B (davinci)" and gpt3.key == "gpt-3" and gpt3.origin == "epoch+curated"
    assert db.find("GPT-3 175B (davinci)") is gpt3 and db.find("davinci") is gpt3
    # Epoch gives 3.74e11 datapoints (words) and 0.6 epochs; the paper's 300B tokens, one pass, win
    assert gpt3.training_tokens == 300e9 and gpt3.epochs is None
    assert gpt3.sources["training_tokens"].startswith("curated: https://arxiv.org/abs/2005.14165")
    # what the curated row leaves out stays Epoch's, cited to its line
    assert gpt3.sources["accessibility"].startswith("Epoch AI database (ai_models.csv line ")
    assert {k for k, _, how in db.overlay if how == "added"} == {"llama-7b"}
    assert len([o for o in db.overlay if o[2] == "overlaid"]) == 17
    # the same model in the report, the web app and `estimate`: GPT-3's tokens are the curated ones everywhere
    assert estimate("GPT-3 175B (davinci)", point=True).to_dict() == estimate("gpt-3", point=True).to_dict()


def test_unknown_model_lists_the_closest(db):
    with pytest.raises(UnknownModelError, match=r"closest matches: .*GPT-4o"):
        db.find("gpt-4oo")
    with pytest.raises(UnknownModelError, match="none of the"):
        db.find("../../etc/passwd")


def test_a_chip_released_after_the_model_is_not_used(db):
    # Megatron-BERT (2019-09-17): Epoch names a V100S PCIe, released 2019-11-26; the same family's V100 stands in
    e = estimate("Megatron-BERT", point=True)
    assert e.hardware == "NVIDIA Tesla V100 SXM2 32 GB"
    assert any("released 2019-11-26, after this model's publication" in w for w in e.warnings)


def test_no_model_is_costed_on_a_chip_that_did_not_exist(db):
    res = estimate_records(db.records, db, samples=256)
    by_key = {r.key: r for r in db.records}
    for e in res.estimates:
        if not e.hardware:
            continue
        hw = db.hardware.get(e.hardware)
        r = by_key[e.key]
        imputed = "hardware (imputed)" in " ".join(e.notes)
        limit = r.publication_date - dt.timedelta(days=60) if imputed else r.publication_date
        assert hw.release_date is None or hw.release_date <= limit, (e.name, hw.name, hw.release_date)


def test_models_older_than_every_chip_get_no_cost(db):
    # Theseus (1950) has no hardware in the database and no chip existed then: no chip, no cost, and why
    e = estimate("Theseus")
    assert e.hardware == "" and e.cost_usd == {}
    assert any("trained before every chip in the tables" in n for n in e.notes)


def test_imputation_rule_respects_release_dates():
    d = dt.date
    from flopcast.catalogs.hardware import bundled_hardware

    recs = [
        ModelRecord("a", "a", d(2022, 1, 1), ("LabA",), ("Language",), training_hardware=("h100-sxm",)),
        ModelRecord("b", "b", d(2022, 2, 1), ("LabB",), ("Language",), training_hardware=("tpu-v4",)),
        ModelRecord("c", "c", d(2022, 3, 1), ("LabB",), ("Language",), training_hardware=("tpu-v4",)),
    ]
    imp = Imputer(recs, bundled_hardware())
    # LabA's own chip (H100, released 2022-03-22) wins over the year's most common (TPU v4) once it exists...
    hw, why = imp.hardware(ModelRecord("x", "x", d(2023, 1, 1), ("LabA",), ("Language",)))
    assert hw.key == "h100-sxm" and why == "most common chip of LabA's models published within 1 year of 2023"
    # ...but not for a model whose training ended before the H100 was released: then the year's chip
    hw, why = imp.hardware(ModelRecord("y", "y", d(2022, 4, 1), ("LabA",), ("Language",)))
    assert hw.key == "tpu-v4" and why == "most common chip of Language models published in 2022"
    hw, why = imp.hardware(ModelRecord("z", "z", d(1990, 1, 1), ("LabA",), ("Language",)))
    assert hw is None and "trained before every chip" in why


def test_finetunes_cost_their_own_compute(db):
    # Epoch's compute of a fine-tune includes its base model's; the cost is of the fine-tune's own compute
    alpaca = db.find("Alpaca")
    assert alpaca.is_finetune and alpaca.finetune_compute_flop
    e = estimate("Alpaca", point=True)
    assert e.central["training_compute_flop"] == pytest.approx(alpaca.finetune_compute_flop)
    assert any("fine-tune of" in n and "its own fine-tuning compute" in n for n in e.notes)
    # FLAN 137B: 2.05e24 FLOP with LaMDA's pretraining; its fine-tune compute is a truncated entry, so only its
    # own chip-hours cost it, and the compute with the base is shown apart
    flan = estimate("FLAN 137B")
    assert flan.compute_including_base_flop.median == pytest.approx(db.find("FLAN 137B").training_compute_flop)
    assert flan.training_compute_flop.median < 1e22 and flan.is_finetune


def test_truncated_finetune_computes_are_treated_as_missing(db):
    # 75 of the snapshot's fine-tune computes are single digits (Flan-PaLM's "5" where its notes say 5.6e21)
    r = db.find("Flan-PaLM 540B")
    assert r.finetune_compute_flop is None and any("not a plausible compute" in n for n in r.notes)


def test_finetunes_are_left_out_of_selections_by_default(db):
    top = select(db.records, top=10, since=2016, until=2023)
    assert top and not any(r.is_finetune for r in top)
    with_ft = select(db.records, top=10, since=2016, until=2023, include_finetunes=True)
    assert len(with_ft) >= len(top)
    assert "fine-tunes left out" in top_meaning(10) and "fine-tunes included" in top_meaning(10, True)


def test_top_n_uses_epochs_rank_where_given(db):
    d = dt.date
    recs = [
        ModelRecord(n, n, day, training_compute_flop=c)
        for n, day, c in [
            ("a", d(2020, 1, 1), 10.0),
            ("b", d(2020, 6, 1), 5.0),
            ("c", d(2021, 1, 1), 20.0),
            ("d", d(2021, 6, 1), 7.0),
        ]
    ]
    # top-2 at release: a (1st), b (2nd of {10, 5}), c (1st), d (3rd of {20, 10, 7, 5}): not kept
    assert frontier_mask(recs, 2).tolist() == [True, True, True, False]
    # Epoch's "Compute rank when published" decides where given: d ranked 2nd by Epoch is kept
    from dataclasses import replace

    recs[3] = replace(recs[3], compute_rank=2.0)
    assert frontier_mask(recs, 2).tolist() == [True, True, True, True]
    # on the database: every model Epoch ranks in its top 10 is in flopcast's top 10
    ranked = [r for r in db.records if r.compute_rank is not None and r.compute_rank <= 10]
    chosen = {r.key for r in select(db.records, top=10)}
    assert ranked and all(r.key in chosen for r in ranked)


def test_6nd_only_from_tokens_or_words():
    # tokens count as they are; words become tokens at 4/3 a word; other units (images, tweets...) are skipped
    assert dataset_tokens(1e12, "1.5T tokens (Table 4a)", True) == (1e12, "tokens", "")
    assert dataset_tokens(3e11, "300B words", True) == (pytest.approx(3e11 * TOKENS_PER_WORD), "words", "")
    assert dataset_tokens(4e8, "400M image-text pairs", False)[0] is None
    tokens, _, why = dataset_tokens(1e9, "1B examples", True)
    assert tokens is None and "do not say whether it counts tokens or words" in why


def test_no_model_is_costed_from_a_dataset_of_other_units(db):
    # models with no reported compute whose only route would be parameters x "datapoints" of images or examples
    res = estimate_records(db.records, db, samples=256)
    by_key = {r.key: r for r in db.records}
    for e in res.estimates:
        r = by_key[e.key]
        if e.compute_from_params_flop is not None:
            assert r.dataset_unit in ("tokens", "words") or r.origin != "epoch", e.name
