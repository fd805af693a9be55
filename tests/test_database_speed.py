"""The parsed-database cache, the streaming reader and the linear imputer (issue 19).

Speed itself is measured in benchmarks/ (bench_scale.py), never here: these tests pin that the fast paths give
exactly what the plain ones give.
"""

from __future__ import annotations

import os
import pickle
import shutil
import stat
from pathlib import Path

import pytest

from flopcast.datasets import database, epoch, parsed, reader
from flopcast.datasets.database import load_database
from flopcast.datasets.imputation import Imputer
from flopcast.datasets.source import resolve_source


@pytest.fixture
def db_cache(tmp_path, monkeypatch):
    """A cache folder of this test's own, and no database kept in the process."""
    folder = tmp_path / "db-cache"
    monkeypatch.setenv(parsed.DB_CACHE_ENV, str(folder))
    monkeypatch.setattr(database, "_CACHE", {})
    return folder


@pytest.fixture
def data_dir(tmp_path, epoch_dir):
    """A --data folder of this test's own (its files' times are its own)."""
    folder = tmp_path / "data"
    shutil.copytree(epoch_dir, folder)
    return folder


def _fresh(source):
    """The database as a new process would get it (nothing kept in this one)."""
    database._CACHE.clear()
    return load_database(source)


def _no_csv_reading(monkeypatch):
    def fail(source):
        raise AssertionError("the CSVs were read: the cache was not used")

    monkeypatch.setattr(database, "_read", fail)


def test_warm_load_is_the_same_database(db_cache, data_dir, monkeypatch):
    src = resolve_source(str(data_dir))
    cold = _fresh(src)
    files = list(db_cache.glob("*.pickle"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    _no_csv_reading(monkeypatch)
    warm = _fresh(src)
    assert warm is not cold
    assert warm.records == cold.records
    assert [r.sources for r in warm.records] == [r.sources for r in cold.records]
    assert list(warm.hardware) == list(cold.hardware) and warm.hardware.names() == cold.hardware.names()
    assert [r.to_dict() for r in warm.reports] == [r.to_dict() for r in cold.reports]
    assert (warm.overlay, warm.data_date, warm.describe()) == (cold.overlay, cold.data_date, cold.describe())
    assert warm.find("gpt-3") == cold.find("gpt-3")


def test_estimates_from_a_cold_and_a_warm_load_are_identical(db_cache, data_dir, monkeypatch):
    from flopcast.pipeline import estimate

    src = resolve_source(str(data_dir))
    cold = _fresh(src)
    _no_csv_reading(monkeypatch)
    warm = _fresh(src)
    assert warm is not cold
    # reported hardware, imputed hardware (no chip named), a curated row, a fine-tune
    names = ["gpt-3", "llama-2-70b", "PaLM (540B)"]
    names += [r.key for r in cold.records if r.training_compute_flop and not r.training_hardware][:3]
    names += [r.key for r in cold.records if r.base_model and r.training_compute_flop][:1]
    for name in names:
        a = estimate(name, db=cold, samples=2000, seed=3).to_dict()
        b = estimate(name, db=warm, samples=2000, seed=3).to_dict()
        assert a == b, name
    assert [warm.imputer.hardware(r) for r in warm.records] == [cold.imputer.hardware(r) for r in cold.records]


def test_a_changed_source_file_rebuilds(db_cache, data_dir, monkeypatch):
    src = resolve_source(str(data_dir))
    _fresh(src)
    calls = []
    real = database._read
    monkeypatch.setattr(database, "_read", lambda s: calls.append(1) or real(s))
    models = data_dir / "ai_models.csv"
    st = models.stat()
    os.utime(models, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    _fresh(resolve_source(str(data_dir)))
    assert calls == [1]
    _fresh(resolve_source(str(data_dir)))  # and the new file is used from then on
    assert calls == [1]


def test_a_changed_module_rebuilds(db_cache, data_dir, monkeypatch, tmp_path):
    module = tmp_path / "stand_in.py"
    module.write_text("x = 1\n")
    real_files = parsed._module_files
    monkeypatch.setattr(parsed, "_module_files", lambda extra: [*real_files(extra), str(module)])
    src = resolve_source(str(data_dir))
    _fresh(src)
    _no_csv_reading(monkeypatch)
    _fresh(src)  # unchanged: from the cache
    module.write_text("x = 22\n")  # an edit (size and time change)
    with pytest.raises(AssertionError, match="the cache was not used"):
        _fresh(src)


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: b"",
        lambda raw: raw[:100],
        lambda raw: raw[: len(raw) // 2],
        lambda raw: b"not a flopcast file" + raw[20:],
        lambda raw: raw[:-1] + bytes([raw[-1] ^ 0xFF]),
        lambda raw: raw + b"more",
        lambda raw: parsed.MAGIC + (5).to_bytes(4, "little") + b"[1,2]" + pickle.dumps([1, 2]),
    ],
    ids=["empty", "header-cut", "payload-cut", "magic", "flipped-byte", "longer", "foreign"],
)
def test_a_damaged_or_foreign_file_is_ignored_and_rebuilt(db_cache, data_dir, damage):
    src = resolve_source(str(data_dir))
    cold = _fresh(src)
    (path,) = db_cache.glob("*.pickle")
    path.write_bytes(damage(path.read_bytes()))
    again = _fresh(src)
    assert again.records == cold.records
    assert parsed.load(src) is not None  # written again


def test_a_file_others_can_write_is_not_read(db_cache, data_dir, monkeypatch):
    src = resolve_source(str(data_dir))
    _fresh(src)
    (path,) = db_cache.glob("*.pickle")
    path.chmod(0o620)
    assert parsed.load(src) is None
    path.chmod(0o600)
    assert parsed.load(src) is not None


def test_the_cache_can_be_turned_off(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv(parsed.DB_CACHE_ENV, "off")
    monkeypatch.setattr(database, "_CACHE", {})
    assert parsed.folder() is None
    _fresh(resolve_source(str(data_dir)))
    assert parsed.load(resolve_source(str(data_dir))) is None


def test_default_folder_is_under_the_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv(parsed.DB_CACHE_ENV, raising=False)
    monkeypatch.setenv("FLOPCAST_CACHE_DIR", str(tmp_path / "c"))
    assert parsed.folder() == tmp_path / "c" / "database"


def test_an_unwritable_folder_is_left_alone(tmp_path, data_dir, monkeypatch):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    monkeypatch.setenv(parsed.DB_CACHE_ENV, str(blocker / "sub"))
    monkeypatch.setattr(database, "_CACHE", {})
    assert _fresh(resolve_source(str(data_dir))).records  # read, nothing written, no error


# ----------------------------------------------------------------------------- the streaming reader

_HEADER = "Model,Publication date,Training compute (FLOP),Organization,Domain,Training hardware,Notes\n"


def _tricky_files(folder: Path) -> list[Path]:
    """Files with the hazards the reader repairs, big enough to span many small chunks."""
    import random

    rng = random.Random(7)
    rows = []
    for i in range(400):
        note = rng.choice(["", "plain", '"multi\nline ' + "z" * rng.randint(0, 90) + '"', "stray\rcr", '"a, b"'])
        rows.append(
            f"M{i},20{rng.randint(10, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)},1e2{i % 5},O{i % 7},L,x,{note}"
        )
    texts = {
        "crlf_mixed.csv": _HEADER.replace("\n", "\r\n") + "\r\n".join(rows) + "\r\n",
        "lf.csv": _HEADER + "\n".join(rows) + "\n\n\n",
        "cr_only.csv": (_HEADER + "\n".join(r.replace("\r", "") for r in rows if "\n" not in r)).replace("\n", "\r"),
        "unterminated.csv": _HEADER + "\n".join(rows[:50]) + '\nB,2021,2e20,"p,Vision\n,,\n',
        "no_final_newline.csv": _HEADER + "\n".join(rows[:60]) + "\nZ,2020,1e20,o,L,x,end\r",
    }
    out = []
    for name, text in texts.items():
        p = folder / name
        p.write_bytes(text.encode())
        out.append(p)
    return out


def _everything(p: Path) -> tuple:
    models, rep = epoch.load_epoch_models(p)
    return models, rep.to_dict(), epoch.check_file(p).to_dict()


def test_chunk_boundaries_change_nothing(tmp_path, monkeypatch):
    """Records, lines and every issue and warning are the same whatever the size of the chunks read."""
    for p in _tricky_files(tmp_path):
        expected = _everything(p)
        assert expected[1]["records"] > 0
        for size in (1, 7, 64, 1000):
            monkeypatch.setattr(reader, "_CHUNK", size)
            assert _everything(p) == expected, (p.name, size)
            monkeypatch.undo()


def test_stray_cr_warnings_name_their_lines(tmp_path):
    p = tmp_path / "ai_models.csv"
    p.write_bytes((_HEADER + "A,2020,1e20,o\r,L,x,y\r\nB,2021,2e20,p,V,,\r\nC,2022,3e20,q,V,,a\rb\r\n").encode())
    models, rep = epoch.load_epoch_models(p)
    assert [m.name for m in models] == ["A", "B", "C"] and models[0].organizations == ("o",)
    assert [(w.line, w.reason) for w in rep.warnings] == [(2, reader._CR_REASON), (4, reader._CR_REASON)]


def test_a_record_over_the_limit_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_RECORD_CHARS", 1000)
    monkeypatch.setattr(reader, "_CHUNK", 128)
    p = tmp_path / "ai_models.csv"
    p.write_text(_HEADER + "A,2020,1e20,o,L,x,y\n" + 'B,2020,1e20,"' + "x\n" * 2000 + '"\n')
    with pytest.raises(Exception, match="the record on line 3 is over 1,000 characters"):
        epoch.check_file(p)


def test_repeated_cells_share_one_parsed_value(tmp_path):
    p = tmp_path / "ai_models.csv"
    p.write_text(_HEADER + "".join(f"M{i},2020-05-28,1e20,Google,Language,TPU v4,\n" for i in range(50)))
    models, _ = epoch.load_epoch_models(p)
    assert len({id(m.organizations) for m in models}) == 1
    assert len({id(m.training_hardware) for m in models}) == 1


# ----------------------------------------------------------------------------- the imputer


def _brute_force_most_common(records, catalog, r):
    """The imputer's first rule by brute force: count the organization's costable chips over all records."""
    from collections import Counter

    from flopcast.datasets.imputation import training_end

    end = training_end(r)
    for spread in (0, 1, 2):
        for o in r.organizations:
            c: Counter[str] = Counter()
            for x in records:
                if x.publication_date is None or not x.training_hardware:
                    continue
                if o.lower() not in {y.lower() for y in x.organizations}:
                    continue
                if abs(x.publication_date.year - r.publication_date.year) > spread:
                    continue
                hw, _ = catalog.match_names(x.training_hardware)
                if hw is not None:
                    c[hw.key] += 1
            best = max(
                (n for k, n in c.items() if (h := catalog.get(k)).release_date and h.release_date <= end), default=0
            )
            if best:
                return best, c
    return None, None


def test_imputer_picks_a_most_common_chip(db):
    imp = Imputer(db.records, db.hardware)
    checked = 0
    for r in db.records:
        if r.training_hardware or r.publication_date is None or not r.organizations:
            continue
        hw, why = imp.hardware(r)
        if hw is None or "'s models published" not in why:
            continue
        best, counts = _brute_force_most_common(db.records, db.hardware, r)
        assert best is not None and counts[hw.key] == best, r.name
        checked += 1
        if checked == 25:
            break
    assert checked >= 10


@pytest.mark.slow  # two `costs` commands over the whole embedded database (about 10 s on two cores)
def test_costs_from_a_cold_and_a_warm_cache_are_identical(tmp_path, data_dir):
    """The whole `costs` table, in fresh processes: the first reads the CSVs (and writes the cache), the second
    loads the cache; every number is the same."""
    import subprocess
    import sys

    env = dict(os.environ, FLOPCAST_DB_CACHE=str(tmp_path / "db-cache"))
    exe = Path(sys.executable).parent / "flopcast"
    outs = []
    for name in ("cold.csv", "warm.csv"):
        out = tmp_path / name
        cmd = [str(exe), "costs", "--data", str(data_dir), "--format", "csv", "--out", str(out), "--quiet"]
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=600)
        outs.append(out.read_text())
        assert len(list((tmp_path / "db-cache").glob("*.pickle"))) == 1
    assert outs[0] == outs[1] and outs[0].count("\n") > 900
