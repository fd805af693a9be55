"""flopcast's per-GPU memory against every figure Korthikanti et al. 2022 state in words.

Source: Korthikanti, Casper, Lym, McAfee, Andersch, Shoeybi, Catanzaro, "Reducing Activation Recomputation in
Large Transformer Models", arXiv 2205.05198 (MLSys 2023), read in a full-text transcription of the paper.

What the paper publishes about per-GPU memory, and what it does not:

- No table of per-GPU gigabytes. Table 2 gives per-layer formulas (pinned term by term in
  ``tests/test_parallelism.py``); Table 3 the configurations; Tables 4-5 times.
- Figure 1 (parameters, optimizer state and activations per GPU against the 80 GB line), Figure 7 (activation
  memory of each technique as a percentage of the tensor-parallel baseline) and Figure 9 (activation memory of
  each pipeline rank of the 530B) are images: their bar heights are not pinned here.
- The text states these, each pinned below with its section:
  - Sec. 5: selective recomputation "can save 70% and 65% of the required memory for activations for the GPT-3
    and MT-NLG models" (5as/h = 80 and 64);
  - Sec. 6.1 (describing Figure 7): "Individually, both techniques cut the memory requirement nearly in half, and
    combined provide a 5x reduction bringing the memory requirements to under 20%. This is only ~2x of the full
    activation recomputation which is at 10% of the baseline. Without the memory savings provided by sequence
    parallelism and selective recompute together, none of the these models will fit into memory.";
  - Sec. 1 (Figure 1): "for all these cases, the required memory for the baseline cases is above the 80GB
    memory provided by an NVIDIA A100 GPU";
  - Sec. 4.3: for the 22B the embedding and output-layer terms "account for less than 0.01% of the total
    activation memory requirements";
  - Appendix B: the output-tensor deallocation saves, on the 530B's first stage, "sbhp = 2.73 GB".

Figure 7's baseline is eq. 2, tensor parallelism without sequence parallelism or recomputation. flopcast
reproduces Table 2 exactly, so where a ratio below is off by more than 10% the gap is between the paper's rounded
prose and its own formulas, and the test is a strict xfail with the measured ratio and that diagnosis.
"""

from __future__ import annotations

import pytest

from flopcast.parallelism import Layout, ModelShape, inflight_microbatches, layer_activation_bytes, rank_memory

A100_80GB = 80e9  # Sec. 6: "8 NVIDIA 80GB A100 GPUs" per node
S = 2048  # Sec. 6: "sequence length is set to s = 2048"
V = 51200  # Sec. 6: "vocabulary size is set to v = 51200"

# Table 3: model size, attention heads a, hidden h, layers L, tensor t, pipeline p, global batch, micro-batch;
# Sec. 6: interleaving m = 3 for the 175B and 530B. No data parallelism, so n_micro = global / micro-batch.
# (Table 3 gives the 22B 64 heads: 6144 / 64 = 96 per head.)
CONFIGS = {
    "22B": dict(params=22e9, a=64, h=6144, L=48, t=8, p=1, batch=4, mb=4, m=1),
    "175B": dict(params=175e9, a=96, h=12288, L=96, t=8, p=8, batch=64, mb=1, m=3),
    "530B": dict(params=530e9, a=128, h=20480, L=105, t=8, p=35, batch=280, mb=1, m=3),
    "1T": dict(params=1e12, a=160, h=25600, L=128, t=8, p=64, batch=512, mb=1, m=1),
}
NAMES = list(CONFIGS)

#: Table 2 rows as flopcast layouts: (sequence parallelism, recomputation)
BASELINE = (False, "none")  # eq. 2, "tensor parallel (baseline)"
SP_ONLY = (True, "none")  # eq. 4
SELECTIVE_ONLY = (False, "selective")  # sbh (10 + 24/t)
SP_SELECTIVE = (True, "selective")  # 34 sbh/t, "present work"
FULL = (False, "full")  # 2 sbh; Sec. 6.3: "full recomputation without sequence parallelism"


def _shape(name: str) -> ModelShape:
    c = CONFIGS[name]
    return ModelShape(params=c["params"], n_layers=c["L"], d_model=c["h"], n_heads=c["a"], seq_len=S, vocab=V)


def _memory(name: str, technique: tuple[bool, str], **kw):
    c = CONFIGS[name]
    sp, recompute = technique
    lay = Layout(
        tp=c["t"],
        pp=c["p"],
        dp=1,
        sp=sp,
        recompute=recompute,
        micro_batch=c["mb"],
        n_micro=c["batch"] // c["mb"],
        interleave=c["m"],
    )
    return rank_memory(_shape(name), lay, chip_memory_bytes=A100_80GB, **kw)


def _activations(name: str, technique: tuple[bool, str]) -> float:
    mem = _memory(name, technique)
    return mem.activations_bytes + mem.embedding_activations_bytes


def _share_of_baseline(name: str, technique: tuple[bool, str]) -> float:
    """Figure 7's quantity: a technique's first-stage activation memory over eq. 2's."""
    return _activations(name, technique) / _activations(name, BASELINE)


def _xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# -- Sec. 5: selective recomputation saves 70% (GPT-3) and 65% (MT-NLG) -----------------------------------


@pytest.mark.parametrize(
    ("a", "h", "published"),
    [(96, 12288, 0.70), (128, 20480, 0.65)],
    ids=["GPT-3 175B", "MT-NLG 530B"],
)
def test_selective_recompute_saves_70_and_65_percent(a, h, published):
    """Sec. 5: "by using selective activation recomputation we can save 70% and 65% of the required memory for
    activations for the GPT-3 and MT-NLG models". Per layer, eq. 1: 1 - 34 / (34 + 5as/h); GPT-3 5 x 96 x 2048 /
    12288 = 80 -> 1 - 34/114 = 0.702; MT-NLG 5 x 128 x 2048 / 20480 = 64 -> 1 - 34/98 = 0.653. Ratios
    flopcast / published: 1.003 and 1.005."""
    none = float(layer_activation_bytes(S, 1, h, a, recompute="none"))
    selective = float(layer_activation_bytes(S, 1, h, a, recompute="selective"))
    saved = 1.0 - selective / none
    assert saved == pytest.approx(1.0 - 34 / (34 + 5 * a * S / h), rel=1e-12)
    assert saved == pytest.approx(published, rel=0.10)


# -- Sec. 6.1 / Figure 7: shares of the tensor-parallel baseline ------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_figure_7_sequence_parallel_with_selective_is_under_20_percent(name):
    """Sec. 6.1: the two techniques "combined provide a 5x reduction bringing the memory requirements to under
    20%" of eq. 2. Per layer (34/8) / (10 + 24/8 + 5as/(8h)): 22B 5as/h = 106.7 -> 4.25/26.33 = 16.1%; 175B
    (80) 4.25/23 = 18.5%; 530B and 1T (64) 4.25/21 = 20.2%. flopcast, first stage with the embedding terms:
    16.5%, 18.5%, 20.4%, 20.5%; over the published 20%: 0.82, 0.93, 1.02, 1.02, so the bound holds within 10%
    (the 5x itself is pinned for the three large models in tests/test_parallelism.py)."""
    share = _share_of_baseline(name, SP_SELECTIVE)
    assert share <= 0.20 * 1.10


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            "22B",
            marks=_xfail(
                "Sec. 6.1 puts full recomputation 'at 10% of the baseline'; flopcast gives the 22B 8.97% "
                "(ratio 0.897). The paper's own Table 2 gives 2 / (13 + 5as/(8h)) = 2/26.33 = 7.6% for it "
                "(5as/h = 106.7 with 64 heads): the 10% is rounded across models; flopcast's extra term, the "
                "one layer being recomputed, moves it toward 10%, not away."
            ),
        ),
        "175B",
        "530B",
        "1T",
    ],
)
def test_figure_7_full_recompute_is_10_percent_of_baseline(name):
    """Sec. 6.1: "the full activation recomputation which is at 10% of the baseline". Table 2: 2sbh per layer
    over eq. 2: 175B 2/23 = 8.7%, 530B and 1T 2/21 = 9.5%; flopcast also holds the layer being recomputed
    (sbh (10 + 24/t)) and the embedding terms: 9.19%, 10.15%, 10.27%, ratios 0.92, 1.02, 1.03."""
    assert _share_of_baseline(name, FULL) == pytest.approx(0.10, rel=0.10)


@pytest.mark.parametrize("name", NAMES)
def test_figure_7_present_work_is_about_twice_full_recompute(name):
    """Sec. 6.1: the combined techniques' share "is only ~2x of the full activation recomputation". Table 2:
    (34/8) / 2 = 2.125; flopcast (with the recomputed layer in full's): 22B 1.83, 175B 2.01, 530B 2.01, 1T 1.99,
    ratios 0.92, 1.01, 1.00, 1.00."""
    ratio = _activations(name, SP_SELECTIVE) / _activations(name, FULL)
    assert ratio == pytest.approx(2.0, rel=0.10)


def _halves_param(name: str, technique: tuple[bool, str], share: float):
    label = "sequence parallelism" if technique == SP_ONLY else "selective recomputation"
    ratio = share / 0.5
    if abs(ratio - 1.0) <= 0.10:
        return pytest.param(name, technique, id=f"{name}-{label}")
    return pytest.param(
        name,
        technique,
        id=f"{name}-{label}",
        marks=_xfail(
            f"Sec. 6.1: each technique alone cuts the memory 'nearly in half'; flopcast gives {label} alone "
            f"{share:.1%} of the baseline for the {name} (ratio {ratio:.2f}). The paper's own Table 2 gives "
            "the same: sequence parallelism (34 + x)/(8 (13 + x/8)), selective 13/(13 + x/8), x = 5as/h; the "
            "'nearly in half' is the paper's rounding, not a term flopcast counts differently."
        ),
    )


# shares from Table 2 with the first stage's embedding terms (the reasons quote them; the tests recompute them)
_HALVES = {
    ("22B", SP_ONLY): 0.669,
    ("22B", SELECTIVE_ONLY): 0.496,
    ("175B", SP_ONLY): 0.620,
    ("175B", SELECTIVE_ONLY): 0.565,
    ("530B", SP_ONLY): 0.584,
    ("530B", SELECTIVE_ONLY): 0.620,
    ("1T", SP_ONLY): 0.585,
    ("1T", SELECTIVE_ONLY): 0.620,
}


@pytest.mark.parametrize(("name", "technique"), [_halves_param(n, t, s) for (n, t), s in _HALVES.items()])
def test_figure_7_each_technique_alone_nearly_halves(name, technique):
    """Sec. 6.1: "Individually, both techniques cut the memory requirement nearly in half". Table 2 over eq. 2
    (x = 5as/h: 22B 106.7, 175B 80, 530B and 1T 64): sequence parallelism (34 + x)/(8 (13 + x/8)) = 66.8%,
    62.0%, 58.3%, 58.3%; selective 13/(13 + x/8) = 49.4%, 56.5%, 61.9%, 61.9%. Only the 22B's selective is
    within 10% of a half; the rest are strict xfails (the reason gives the ratio)."""
    share = _share_of_baseline(name, technique)
    assert share == pytest.approx(_HALVES[(name, technique)], abs=0.001)  # the figure the reason quotes
    assert share == pytest.approx(0.5, rel=0.10)


# -- the 80 GB line: Sec. 1 (Figure 1), Sec. 6.1, Table 5 -------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_80gb_line_only_present_work_and_full_recompute_fit(name):
    """Per-GPU totals on the first pipeline stage of an 80 GB A100 (flopcast's defaults: 16 bytes of model state
    per parameter, 8 GB reserved). Sec. 1: "for all these cases, the required memory for the baseline cases is
    above the 80GB"; Sec. 6.1: "Without the memory savings provided by sequence parallelism and selective
    recompute together, none of the these models will fit"; Table 5 ran both "Full Recompute" and "Present Work"
    on these GPUs, so both fit. flopcast, GB (baseline / SP only / selective only / SP + selective / full):
    22B 115.9 / 94.7 / 83.6 / 62.5 / 57.7; 175B 124.5 / 97.2 / 93.3 / 66.0 / 59.3; 530B 162.9 / 111.9 / 116.3 /
    65.3 / 52.7; 1T 183.1 / 124.4 / 129.5 / 70.7 / 56.3. The narrowest margin is the 22B with selective
    recomputation alone: 83.6 GB, of which 8 GB is flopcast's reserve (75.6 GB of states and activations; with
    Megatron's fp32 gradients, 18 bytes a parameter, it is over 80 GB without the reserve)."""
    for technique in (BASELINE, SP_ONLY, SELECTIVE_ONLY):
        mem = _memory(name, technique)
        assert not mem.fits, (name, technique, mem.total_bytes)
        assert mem.reason
    for technique in (SP_SELECTIVE, FULL):
        mem = _memory(name, technique)
        assert mem.fits, (name, technique, mem.total_bytes)


# -- Sec. 4.3: the embedding and output terms --------------------------------------------------------------


def _embedding_share_22b() -> float:
    mem = _memory("22B", SP_ONLY)  # eq. 5's setting: tensor + sequence parallelism, no recomputation
    return mem.embedding_activations_bytes / mem.activations_bytes


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Sec. 4.3 says the embedding/output terms are 'less than 0.01%' of the 22B's activations; its own "
        "formula (p/L + 4/L (1 + v/h)) / (34 + 5as/h) = 0.799/140.7 gives 0.57%, and so does flopcast "
        "(0.568%, 57x the bound). Read as the fraction 0.01 (1%) it holds: see the test below."
    ),
)
def test_embedding_terms_of_22b_below_a_hundredth_of_a_percent():
    assert _embedding_share_22b() < 1e-4


def test_embedding_terms_of_22b_below_one_percent():
    """Sec. 4.3, extra memory sbhL/t (p/L + delta_{p=1} 4/L (1 + v/h)) over eq. 5's sbhL/t (34 + 5as/h): 22B,
    p = 1: (1/48 + 4/48 x (1 + 51200/6144)) / (34 + 106.7) = 0.799 / 140.7 = 0.57%."""
    c = CONFIGS["22B"]
    x = 5 * c["a"] * S / c["h"]
    want = (c["p"] / c["L"] + 4 / c["L"] * (1 + V / c["h"])) / (34 + x)
    share = _embedding_share_22b()
    assert share == pytest.approx(want, rel=1e-9)
    assert share < 0.01


# -- Appendix B: the 530B's first-stage output tensors, "sbhp = 2.73 GB" -----------------------------------


def test_appendix_b_first_stage_output_tensors_are_2_73_gb():
    """Appendix B: deallocating each micro-batch's output tensor saves sbhr per rank, "peaking at r = p on the
    first pipeline stage ... the theoretical savings ... on the first pipeline stage is sbhp = 2.73 GB" for the
    530B at 2 bytes per element: 2048 x 1 x 20480 x 35 x 2 = 2.936e9 bytes = 2.734 GiB (the paper's "GB" is
    GiB). flopcast's 1F1B count of micro-batches in flight on the first stage gives r = p = 35; like the
    paper's eq. 5 (Appendix B: "in all other results ... this output-tensor-deallocation optimization is used")
    flopcast holds no such buffer, so its first-stage activations are eq. 5's and not 2.73 GiB more."""
    c = CONFIGS["530B"]
    r = float(inflight_microbatches(c["p"], c["batch"]))
    assert r == c["p"]
    saved = 2 * S * c["mb"] * c["h"] * r
    assert saved / 2**30 == pytest.approx(2.73, rel=0.01)
    lay = Layout(tp=8, pp=35, dp=1, n_micro=280, recompute="selective")
    mem = rank_memory(_shape("530B"), lay, chip_memory_bytes=A100_80GB)
    assert mem.activations_bytes == pytest.approx(34 * S * c["h"] * c["L"] / 8, rel=1e-12)  # eq. 6, no buffer
