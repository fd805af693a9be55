from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EPOCH = ROOT.parent / "shared" / "data" / "epoch"


@pytest.fixture(scope="session")
def epoch_dir() -> Path:
    """Epoch AI's snapshot beside the project (CI has it too). Missing data fails, never skips."""
    if not (EPOCH / "ml_hardware.csv").is_file():
        pytest.fail(f"Epoch AI data snapshot not found at {EPOCH}; the tests need ../shared/data/epoch/")
    return EPOCH
