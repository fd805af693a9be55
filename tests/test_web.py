"""The web app's JSON API: the CLI's numbers, validation as 422 per field, limits, no file access."""

import json

import pytest

pytest.importorskip("fastapi", reason="the web extra is part of the test extra")
from fastapi.testclient import TestClient

from flopcast.testing import run_cli as run
from flopcast.web import create_app


@pytest.fixture(scope="module")
def client(epoch_dir):
    return TestClient(create_app(data=str(epoch_dir)))


def test_pages_and_assets_are_served_locally(client):
    for path in ("/", "/deploy", "/hardware", "/trends"):
        r = client.get(path)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        assert 'src="/static/app.js"' in r.text and "http://" not in r.text and "https://" not in r.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert {"/api/estimate", "/api/deploy", "/api/trend", "/api/hardware/compare"} <= set(spec["paths"])


def test_estimate_matches_the_cli(client, capsys):
    body = {
        "params": [60e9, 80e9],
        "tokens": 2e12,
        "hardware": "h100",
        "chips": 1024,
        "utilization": [0.35, 0.5],
        "price_per_chip_hour": [2, 3.5],
        "samples": 5000,
        "seed": 3,
    }
    api = client.post("/api/estimate", json=body).json()
    code, out, _ = run(
        [
            "estimate",
            "--params",
            "60e9..80e9",
            "--tokens",
            "2e12",
            "--hardware",
            "h100",
            "--chips",
            "1024",
            "--utilization",
            "0.35..0.5",
            "--price-per-chip-hour",
            "2..3.5",
            "--samples",
            "5000",
            "--seed",
            "3",
            "--json",
        ],
        capsys,
    )
    cli = json.loads(out)
    assert code == 0
    for m in cli["cost_usd"]:
        assert api["cost_usd"][m] == cli["cost_usd"][m]
    assert api["training_compute_flop"] == cli["training_compute_flop"]
    # the chart data: a histogram of the same samples
    h = api["histograms"]["cloud"]
    assert sum(h["counts"]) == 5000 and len(h["log10_edges"]) == len(h["counts"]) + 1


def test_catalog_model_point_estimate(client):
    # GPT-3, Cottier's method (the developer's provider): 3,552,000 chip-hours x $1.16 = $4,120,320 cloud (central)
    d = client.post("/api/estimate", json={"model": "gpt-3", "samples": 2000, "cloud_vendor": "organization"}).json()
    assert d["cost_usd"]["cloud"]["central"] == pytest.approx(4_120_320, rel=1e-9)
    # the power and energy of the same run: Epoch's own figure is beside flopcast's peak power
    assert d["reported_power_w"] == pytest.approx(5.1e6, rel=0.01) and d["peak_power_w"]["median"] > 0


def test_deploy_matches_the_cli(client, capsys):
    body = {
        "model": "bloom-176b",
        "scenario": "twitter-1pct",
        "batch": 32,
        "context": 1024,
        "vs_training": True,
        "samples": 3000,
    }
    api = client.post("/api/deploy", json=body).json()
    code, out, _ = run(
        [
            "deploy",
            "bloom-176b",
            "--scenario",
            "twitter-1pct",
            "--batch",
            "32",
            "--context",
            "1024",
            "--vs-training",
            "--samples",
            "3000",
            "--json",
        ],
        capsys,
    )
    cli = json.loads(out)
    assert code == 0
    assert api["usd_per_year"] == cli["usd_per_year"] and api["vs_training"]["ratio"] == cli["vs_training"]["ratio"]


def test_trend_and_hardware(client, capsys, epoch_dir):
    d = client.post("/api/trend", json={"metric": "cost", "top": 10, "since": 2016, "until": 2023}).json()
    # Cottier et al. 2024: frontier training cost grows 2.4x a year (90% CI 2.0-2.9); flopcast's fit of its own
    # medians (75 models, fine-tunes left out) is x2.59 (2.27-2.97)
    assert d["growth_per_year"]["estimate"] == pytest.approx(2.595, abs=0.005)
    assert 2.0 <= d["growth_per_year"]["estimate"] <= 2.9
    code, out, _ = run(
        ["trend", "cost", "--top", "10", "--since", "2016", "--until", "2023", "--bootstrap", "0", "--json"], capsys
    )
    assert code == 0
    assert d["growth_per_year"] == json.loads(out)["growth_per_year"]
    assert len(d["points"]) == d["n_models"] and len(d["band"]["year"]) == 80
    # V100 -> A100: 312 / 125 = 2.496x peak, 80 / 32 = 2.5x memory
    h = client.get("/api/hardware/compare", params={"a": "v100", "b": "a100"}).json()
    assert h["peak_flop_per_s_ratio"] == pytest.approx(2.496)


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"model": "gpt-3", "samples": 1}, "samples", "greater than or equal to 2"),
        ({"model": "gpt-3", "samples": 10**7}, "samples", "less than or equal to 100000"),
        ({"params": [5e9, 1e9]}, "params", "low 5e+09 is greater than high 1e+09"),
        ({"params": -1}, "params", "greater than 0"),
        ({"utilization": 1.5, "params": 1e9}, "utilization", "less than or equal to 1"),
        ({"model": "gpt-3", "colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"model": "nosuchmodel"}, "model", "unknown model"),
        ({"model": "../../../etc/passwd"}, "model", "unknown model"),  # a name, looked up; never a file
        ({"model": "<script>"}, "model", "String should match pattern"),
        ({"params": 7e9, "hardware": "zzz", "tokens": 1e12, "chips": 8}, "hardware", "unknown hardware"),
        ({"model": "gpt-3", "grid": "mars"}, "grid", "unknown grid 'mars'"),
        ({"model": "gpt-3", "grid": 5}, "grid", "less than or equal to 2"),
        ({"model": "gpt-3", "cost_of_capital": 1.5}, "cost_of_capital", "less than 1"),
        ({"model": "gpt-3", "cloud_vendor": "ibm"}, "cloud_vendor", "is not one of market, organization"),
        ({"model": "gpt-3", "depreciation_years": 4}, "depreciation_years", "needs depreciation='straight-line'"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, body, field, message):
    r = client.post("/api/estimate", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert any(field in e["loc"] and message in e["msg"] for e in detail), detail


def test_money_options_reach_the_estimate(client, capsys):
    # the same run through the API and the CLI, with straight-line depreciation, a cost of capital and a grid
    body = {"model": "gpt-3", "samples": 2000, "depreciation": "straight-line", "cost_of_capital": 0.08}
    api = client.post("/api/estimate", json={**body, "grid": "france"}).json()
    argv = ["estimate", "gpt-3", "--samples", "2000", "--depreciation", "straight-line", "--cost-of-capital", "0.08"]
    code, out, _ = run([*argv, "--grid", "france", "--json"], capsys)
    cli = json.loads(out)
    assert code == 0 and api["cost_usd"]["amortized"] == cli["cost_usd"]["amortized"]
    assert api["emissions_kg_co2e"] == cli["emissions_kg_co2e"]
    inputs = {r["name"]: r for r in api["inputs"]}
    assert inputs["depreciation_years"]["central"] == 5 and inputs["cost_of_capital"]["central"] == 0.08
    assert inputs["grid_kg_co2e_per_kwh"]["central"] == pytest.approx(0.0442)


def test_no_file_access_and_size_limits(client):
    # scenarios are names, not paths: a path is refused before anything is opened
    r = client.post("/api/deploy", json={"model": "bloom-176b", "scenario": "/etc/passwd"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "scenario"
    r = client.post("/api/deploy", json={"model": "bloom-176b"})
    assert r.status_code == 422 and "a scenario, tokens_per_day or requests_per_s" in r.json()["detail"][0]["msg"]
    r = client.post("/api/estimate", content=b"{" + b" " * 20_000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post("/api/estimate", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert client.get("/static/../pyproject.toml").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404


def _listening_addresses(port: int) -> list[str] | None:
    """The addresses this machine's TCP sockets in LISTEN state on ``port`` are bound to, read from the kernel's
    table (/proc/net/tcp and tcp6, Linux); None where there is no such table."""
    import socket
    import struct
    from pathlib import Path

    tables = [(Path("/proc/net/tcp"), socket.AF_INET), (Path("/proc/net/tcp6"), socket.AF_INET6)]
    if not tables[0][0].is_file():
        return None
    found = []
    for path, family in tables:
        if not path.is_file():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, _, hex_port = local.partition(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A: TCP_LISTEN
                continue
            # the kernel prints the address as 32-bit words in host byte order
            packed = b"".join(struct.pack("=I", int(addr[i : i + 8], 16)) for i in range(0, len(addr), 8))
            found.append(socket.inet_ntop(family, packed))
    return sorted(found)


def _outward_address() -> str | None:
    """An address of this machine other than loopback (None if it has none)."""
    import contextlib
    import ipaddress
    import socket

    candidates = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # a documentation address: a UDP connect sends nothing, it picks a route
        candidates.append(s.getsockname()[0])
    with contextlib.suppress(OSError):
        candidates += [a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    return next((a for a in candidates if not ipaddress.ip_address(a).is_loopback), None)


def test_flopcast_serve_command_listens_on_loopback_only(epoch_dir):
    # the real command in its own process, with no --host: the socket it listens on is bound to 127.0.0.1 (the
    # kernel's table says so, and this machine's other address refuses a connection), it answers, and it stops
    # on SIGTERM. A server bound to 0.0.0.0 or :: fails both checks.
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = str(Path(sys.executable).with_name("flopcast"))
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), "--data", str(epoch_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        r = None
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"flopcast serve exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert r is not None, "flopcast serve did not answer on 127.0.0.1 within 30 s"
        assert r.status_code == 200 and r.json() == {"ok": True}
        listening = _listening_addresses(port)
        outward = _outward_address()
        if listening is None and outward is None:
            pytest.skip("no kernel socket table and no non-loopback address to check the bound address with")
        if listening is not None:
            assert listening == ["127.0.0.1"], f"flopcast serve listens on {listening}"
        if outward is not None:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((outward, port), timeout=5).close()
        body = {"model": "gpt-3", "samples": 1000, "cloud_vendor": "organization"}
        d = httpx.post(f"http://127.0.0.1:{port}/api/estimate", json=body).json()
        assert d["cost_usd"]["cloud"]["central"] == pytest.approx(4_120_320, rel=1e-9)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode in (0, -15), proc.stderr.read()[-2000:]  # SIGTERM: a clean shutdown or the signal


def test_serve_rejects_a_bad_port_or_data_folder(capsys, tmp_path):
    code, _, err = run(["serve", "--port", "70000"], capsys)
    assert code == 2 and "--port=70000 is outside 1..65,535" in err
    # a wrong data folder fails at start, not at the first trend request
    code, _, err = run(["serve", "--data", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "is not a folder" in err
