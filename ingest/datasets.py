"""Where the real datasets are: the bundled samples, and the full copies beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

from graph.errors import ConfigError

SAMPLES = Path(__file__).parent / "samples"
RETAIL_SAMPLE = SAMPLES / "online-retail-sample.csv.gz"
ESHOP_SAMPLE = SAMPLES / "eshop-clickstream-sample.csv.gz"

RETAIL_FILE = Path("online-retail") / "online_retail_2010-12_2011-09.csv.gz"
ESHOP_FILE = Path("eshop-clickstream-2008") / "e-shop_clothing_2008.csv"


def shared_datasets() -> Path:
    """The full datasets: `CKG_DATASETS_DIR`, else `../shared/datasets` beside the checkout."""
    env = os.environ.get("CKG_DATASETS_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "datasets")
    for path in candidates:
        if (path / RETAIL_FILE).is_file():
            return path
    raise ConfigError(
        "the full datasets were not found; set CKG_DATASETS_DIR to the folder holding "
        f"{RETAIL_FILE} (tried {', '.join(str(c) for c in candidates)})"
    )
