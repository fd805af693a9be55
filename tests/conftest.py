"""Shared fixtures. The tests read only what the repository holds: the embedded snapshot of
Epoch AI's databases (``src/flopcast/datasets/embedded``), never a folder beside the clone."""

import gzip
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_FOLDER: list[Path] = []

# pytest-xdist's workers set COLUMNS=80 and LINES=24: the tests read what a pipe gets (120 columns) unless a
# test sets a width itself (tests/test_cli_terminal.py)
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


def epoch_folder() -> Path:
    """The embedded snapshot decompressed into a temporary folder, once per test run."""
    if not _FOLDER:
        import atexit
        import shutil
        import tempfile

        from flopcast.datasets.source import embedded_files

        folder = Path(tempfile.mkdtemp(prefix="flopcast-epoch-"))
        atexit.register(shutil.rmtree, folder, True)
        for path in embedded_files().values():
            (folder / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
        _FOLDER.append(folder)
    return _FOLDER[0]


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """No test sees the user's pulled cache (it would change the default database), and the Sobol points the
    tests make (and the help screens they keep) are kept in folders of their own, not the user's cache."""
    saved = {k: os.environ.get(k) for k in ("FLOPCAST_CACHE_DIR", "FLOPCAST_SOBOL_CACHE", "FLOPCAST_HELP_CACHE")}
    os.environ["FLOPCAST_CACHE_DIR"] = str(tmp_path_factory.mktemp("flopcast-cache"))
    os.environ["FLOPCAST_SOBOL_CACHE"] = str(tmp_path_factory.mktemp("flopcast-sobol"))
    os.environ["FLOPCAST_HELP_CACHE"] = str(tmp_path_factory.mktemp("flopcast-help"))
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def epoch_dir() -> Path:
    """The embedded snapshot as plain CSV files in a folder (what `--data DIR` and the readers take)."""
    return epoch_folder()


@pytest.fixture(scope="session")
def db():
    """The default database (the embedded snapshot with the curated overlay), read once."""
    from flopcast.datasets.database import load_database

    return load_database("embedded")
