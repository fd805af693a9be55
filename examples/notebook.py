"""A notebook's tour of flopcast's Python API, as a script (each ``# %%`` is a cell in Jupyter or VS Code).

Run it with ``python examples/notebook.py [FOLDER]``: it prints each result and writes its charts to FOLDER
(default: a temporary folder). tests/test_api.py runs it, so it stays in step with the API; docs/api.md explains
each call. Sample counts are small so that it runs in a few seconds; leave them out for the CLI's defaults.
"""

# %%
import sys
import tempfile
from pathlib import Path

import flopcast

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="flopcast-notebook-"))
out.mkdir(parents=True, exist_ok=True)

# %% Every model's cost, one row each (the rows of `flopcast costs`)
df = flopcast.costs(samples=256)
print(f"{len(df)} models costed, {len(df.skipped)} not ({df.source})")
frontier = df[df["cost_amortized_usd"].notna()].nlargest(5, "cost_amortized_usd")
print(
    frontier[
        ["model", "publication_date", "cost_amortized_usd_p5", "cost_amortized_usd", "cost_amortized_usd_p95"]
    ].to_string()
)
df.plot(out / "costs.png")

# %% One model, and a run of your own with 90% intervals
gpt3 = flopcast.estimate("gpt-3", samples=2000)
print(gpt3)
print(gpt3.to_frame()[["label", "median", "p5", "p95"]])
gpt3.plot(out / "gpt-3.png")
run = flopcast.estimate(
    params=(60e9, 80e9),
    tokens=2e12,
    hardware="h100",
    chips=1024,
    utilization=(0.35, 0.5),
    price_usd_per_chip_hour=2.5,
    samples=2000,
)
print(run)

# %% Serving a model for a load
serving = flopcast.deploy("llama-3-70b", tokens_per_day=1e9, hardware="h100", samples=500)
print(serving)

# %% The trend of frontier compute, drawn by reporting.plots.plot_trend
compute = flopcast.trend("compute", top=10, bootstrap=200, extrapolate=2030)
print(compute)
compute.plot(out / "trend.png")

# %% Two chips at one date, for a model size you state
print(flopcast.compare("h100", "b200", params=70e9))

# %% The cost of the largest run of each year to 2032, and when it passes $1B
outlook = flopcast.forecast("cost", samples=500, thresholds=[1e9])
print(outlook)
outlook.plot(out / "forecast.png")
print(f"charts in {out}")
