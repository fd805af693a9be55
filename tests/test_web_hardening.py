"""The web app's guards: the body counted as it streams, the bound on heavy work, the Host check, one error shape
everywhere (and in the OpenAPI document), and `flopcast serve` refusing data the trend explorer cannot use.

Bodies are streamed to a real uvicorn server on loopback in its own process (its memory is read from /proc);
the rest goes through the in-process test client. Latency under load is measured in benchmarks/bench_web_load.py,
never asserted here.
"""

import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is part of the test extra")
uvicorn = pytest.importorskip("uvicorn")
import httpx
from fastapi.testclient import TestClient

from flopcast.testing import run_cli as run
from flopcast.web import create_app

CHEAP = {
    "/api/estimate": {"model": "gpt-3", "samples": 200},
    "/api/deploy": {"model": "bloom-176b", "scenario": "twitter-1pct", "samples": 200},
    "/api/trend": {"metric": "compute", "samples": 200},
}


def assert_error(r: httpx.Response, status: int, kind: str, loc: list | None = None) -> dict:
    """``r`` is an error of the app's one shape: {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], list) and body["detail"], body
    for e in body["detail"]:
        assert set(e) == {"loc", "msg", "type"} and isinstance(e["loc"], list), e
        assert isinstance(e["msg"], str) and e["msg"] and isinstance(e["type"], str), e
    first = body["detail"][0]
    assert first["type"] == kind, body
    if loc is not None:
        assert first["loc"] == loc, body
    return first


def _until(condition, what: str, limit_s: float = 30.0) -> None:
    """Wait for ``condition`` (a guard against hanging, not a timing check)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {limit_s:.0f} s")
        time.sleep(0.005)


# -- the body, streamed to a real server -------------------------------------------------------------------------

SERVER = textwrap.dedent(
    """
    import sys, uvicorn
    from flopcast.web import create_app
    uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """`create_app()` under uvicorn in its own process: (base URL, pid)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            pytest.fail("the server did not answer within 30 s")
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _chunked(total: int, counter: list[int], chunk: int = 64 * 1024):
    """A body of ``total`` bytes sent chunked (no Content-Length); ``counter[0]`` counts what was handed over."""
    block = b" " * chunk
    while counter[0] < total:
        counter[0] += chunk
        yield block


def _memory_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def test_a_chunked_body_over_the_limit_is_refused_as_it_streams(server):
    # 64 MB sent chunked (no Content-Length to check): 413 in the app's shape once 16 KiB have arrived, and the
    # connection is closed, so the client hands over no more than the socket buffers hold (the old middleware read
    # all 64 MB into memory, then said 413)
    base, _ = server
    sent = [0]
    r = httpx.post(
        base + "/api/estimate",
        content=_chunked(64 << 20, sent),
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 413
    assert sent[0] < 16 << 20, f"the server read {sent[0] / 2**20:.0f} MB of a body it refuses"
    e = assert_error(r, 413, "too_large", ["body"])
    assert "16,384 bytes" in e["msg"]
    assert httpx.get(base + "/api/health", timeout=10).json() == {"ok": True}


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the server's memory from /proc (Linux)")
def test_a_chunked_body_leaves_the_server_memory_flat(server):
    # the server's resident memory, now and at its peak, stays within 50 MB of where it was before a 256 MB
    # chunked upload (benchmarks/bench_web_load.py does the same with 1 GB)
    base, pid = server
    try:  # the peak (VmHWM) from here on: reset it to the current RSS
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        baseline = "VmRSS"
    except OSError:  # not allowed here: how far the upload raises the earlier peak
        baseline = "VmHWM"
    before = _memory_kb(pid)
    r = httpx.post(
        base + "/api/trend",
        content=_chunked(256 << 20, [0]),
        headers={"content-type": "application/json"},
        timeout=120,
    )
    assert r.status_code == 413
    after = _memory_kb(pid)
    assert after["VmRSS"] - before["VmRSS"] < 50_000, (before, after)
    assert after["VmHWM"] - before[baseline] < 50_000, (before, after)


# -- the bound on heavy work --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CHEAP))
def test_heavy_requests_beyond_the_bound_get_503_with_retry_after(path):
    app = create_app(max_heavy=1, max_waiting=0)
    client = TestClient(app)
    with app.state.limiter.hold():
        r = client.post(path, json=CHEAP[path])
        e = assert_error(r, 503, "busy", [])
        assert int(r.headers["retry-after"]) >= 1
        assert "busy" in e["msg"]
        # health takes no slot: it answers while the bound is reached
        assert client.get("/api/health").json() == {"ok": True}
    assert client.post(path, json=CHEAP[path]).status_code == 200  # the slot is back


def test_samples_in_flight_are_bounded():
    # 15,000 samples may be in flight: with 10,000 held, 5,000 more fit and 6,000 do not; a trend counts ten times
    # its samples (it estimates tens of models)
    app = create_app(max_heavy=8, max_samples_in_flight=15_000, max_waiting=0)
    client = TestClient(app)
    with app.state.limiter.hold(10_000):
        assert_error(client.post("/api/estimate", json={"model": "gpt-3", "samples": 6000}), 503, "busy")
        assert client.post("/api/estimate", json={"model": "gpt-3", "samples": 5000}).status_code == 200
        assert_error(client.post("/api/trend", json={"metric": "compute", "samples": 600}), 503, "busy")
        assert client.post("/api/trend", json={"metric": "compute", "samples": 500}).status_code == 200
    assert app.state.limiter.running == 0 and app.state.limiter.samples == 0


def test_a_request_waits_for_a_slot_and_a_full_queue_is_refused():
    app = create_app(max_heavy=1, max_waiting=1, wait_s=120)
    limiter = app.state.limiter
    with TestClient(app) as client, ThreadPoolExecutor(1) as pool:
        with limiter.hold():
            waiting = pool.submit(client.post, "/api/estimate", json=CHEAP["/api/estimate"])
            _until(lambda: limiter.waiting == 1, "the second request queueing")
            # the queue holds one: a third request is refused at once, and health still answers
            assert_error(client.post("/api/deploy", json=CHEAP["/api/deploy"]), 503, "busy")
            assert client.get("/api/health").status_code == 200
            assert not waiting.done()
        # the held slot is released: the waiting request gets it
        assert waiting.result(timeout=120).status_code == 200
    assert (limiter.running, limiter.samples, limiter.waiting) == (0, 0, 0)


def test_a_wait_that_runs_out_is_a_503():
    app = create_app(max_heavy=1, max_waiting=4, wait_s=0.01)
    client = TestClient(app)
    with app.state.limiter.hold():
        r = client.post("/api/trend", json=CHEAP["/api/trend"])
        assert_error(r, 503, "busy")
        assert "retry-after" in r.headers
    assert app.state.limiter.waiting == 0


# -- the Host header ----------------------------------------------------------------------------------------------


def test_a_host_not_served_gets_421():
    client = TestClient(create_app(allowed_hosts=["127.0.0.1:8123", "localhost:8123"]))
    ok = {"host": "127.0.0.1:8123"}
    assert client.get("/api/health", headers=ok).status_code == 200
    assert client.get("/api/health", headers={"host": "LOCALHOST:8123"}).status_code == 200
    for host in ("evil.example:8123", "evil.example", "127.0.0.1:8124", "127.0.0.1", "localhost.evil.example:8123"):
        r = client.get("/api/health", headers={"host": host})
        e = assert_error(r, 421, "misdirected", ["header", "host"])
        assert host in e["msg"] and "127.0.0.1:8123" in e["msg"]
    # refused before the body is read: a body over the limit gets 421, not 413
    r = client.post("/api/estimate", content=b"{" + b" " * 20_000 + b"}", headers={"host": "evil.example:8123"})
    assert_error(r, 421, "misdirected")


def test_the_default_app_answers_local_names_only_and_none_answers_all():
    default = TestClient(create_app())
    assert default.get("/api/health").status_code == 200  # the test client's own name, "testserver"
    for host in ("127.0.0.1:8000", "localhost:5000", "[::1]:8000"):
        assert default.get("/api/health", headers={"host": host}).status_code == 200, host
    # a rebinding page at evil.example resolved to 127.0.0.1 sends its own name
    assert_error(default.get("/", headers={"host": "evil.example:8000"}), 421, "misdirected")
    anyhost = TestClient(create_app(allowed_hosts=None))
    assert anyhost.get("/api/health", headers={"host": "evil.example:8000"}).status_code == 200


@pytest.fixture
def served(monkeypatch):
    """`flopcast serve` up to the point where it would listen: what it passes to uvicorn.run."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_answers_the_hosts_it_is_bound_to(served, capsys, epoch_dir):
    code, _, err = run(["serve", "--port", "8123", "--data", str(epoch_dir)], capsys)
    assert code == 0 and "warning" not in err, err
    ((app, kw),) = served
    assert kw["host"] == "127.0.0.1" and kw["port"] == 8123
    client = TestClient(app, base_url="http://127.0.0.1:8123")
    for host in ("127.0.0.1:8123", "localhost:8123", "[::1]:8123"):
        assert client.get("/api/health", headers={"host": host}).status_code == 200, host
    for host in ("evil.example:8123", "127.0.0.1:8000", "testserver", "[::1]:9"):
        assert_error(client.get("/api/health", headers={"host": host}), 421, "misdirected")


@pytest.mark.parametrize("host", ["127.0.0.2", "127.255.0.1", "::1", "localhost"])
def test_every_loopback_bind_is_quiet_and_answers_its_address(served, capsys, epoch_dir, host):
    code, _, err = run(["serve", "--host", host, "--port", "8124", "--data", str(epoch_dir)], capsys)
    assert code == 0 and "exposes" not in err, err
    ((app, _),) = served
    name = f"[{host}]" if ":" in host else host
    client = TestClient(app)
    assert client.get("/api/health", headers={"host": f"{name}:8124"}).status_code == 200
    assert client.get("/api/health", headers={"host": "127.0.0.1:8124"}).status_code == 200
    assert_error(client.get("/api/health", headers={"host": "evil.example:8124"}), 421, "misdirected")


def test_an_outward_bind_warns_and_answers_its_address_and_allowed_names(served, capsys, epoch_dir):
    code, _, err = run(
        ["serve", "--host", "192.0.2.7", "--port", "8125", "--allow-host", "flopcast.lan", "--data", str(epoch_dir)],
        capsys,
    )
    assert code == 0 and "binding 192.0.2.7 exposes the app beyond this machine" in err, err
    ((app, _),) = served
    client = TestClient(app)
    assert client.get("/api/health", headers={"host": "192.0.2.7:8125"}).status_code == 200
    assert client.get("/api/health", headers={"host": "flopcast.lan:8125"}).status_code == 200
    assert_error(client.get("/api/health", headers={"host": "127.0.0.1:8125"}), 421, "misdirected")


# -- one error shape ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


@pytest.mark.parametrize(
    "kwargs, status, kind, loc, words",
    [
        # a body that is not UTF-8 was a 400 with a bare string
        (dict(content=b'{"model": "\xff"}', headers={"content-type": "application/json"}), 422, "json_invalid", ["body"], "utf-8"),
        # malformed JSON: where and why
        (dict(content=b'{"model": gpt-3}', headers={"content-type": "application/json"}), 422, "json_invalid", None, "Expecting value"),
        # a body not declared as JSON
        (dict(content=b'{"model": "gpt-3"}', headers={"content-type": "text/plain"}), 415, "unsupported_media_type", ["header", "content-type"], "text/plain"),
        (dict(content=b'{"model": "gpt-3"}'), 415, "unsupported_media_type", ["header", "content-type"], "application/json"),
        # a Content-Length that is not a number (uvicorn refuses it before the app; the app too)
        (dict(content=b"{}", headers={"content-type": "application/json", "content-length": "12x"}), 400, "bad_request", ["header", "content-length"], "12x"),
    ],
)  # fmt: skip
def test_bad_bodies_get_the_documented_shape(client, kwargs, status, kind, loc, words):
    e = assert_error(client.post("/api/estimate", **kwargs), status, kind, loc)
    assert words in e["msg"], e


@pytest.mark.parametrize(
    "method, path, status, kind, words",
    [
        ("GET", "/api/nothing-here", 404, "not_found", "/api/nothing-here"),
        ("GET", "/static/nothing.js", 404, "not_found", "/static/nothing.js"),
        ("GET", "/api/estimate", 405, "method_not_allowed", "POST"),
        ("DELETE", "/api/health", 405, "method_not_allowed", "GET"),
    ],
)
def test_not_found_and_wrong_method_get_the_documented_shape(client, method, path, status, kind, words):
    r = client.request(method, path)
    e = assert_error(r, status, kind)
    assert words in e["msg"], e
    if status == 405:
        assert r.headers["allow"] == words


def test_an_unexpected_error_gets_the_documented_shape(monkeypatch):
    import flopcast.service

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(flopcast.service, "training_estimate", broken)
    r = TestClient(create_app(), raise_server_exceptions=False).post("/api/estimate", json={"model": "gpt-3"})
    e = assert_error(r, 500, "internal")
    assert "a bug" not in e["msg"]  # no internals to the client


def test_the_openapi_document_declares_the_errors_and_the_names(client):
    spec = client.get("/api/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["ErrorResponse"]["properties"]) == {"detail"}
    assert set(schemas["ErrorItem"]["properties"]) == {"loc", "msg", "type"}
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path in CHEAP:
        responses = spec["paths"][path]["post"]["responses"]
        for code in ("413", "415", "421", "422", "503"):
            assert responses[code]["content"]["application/json"]["schema"] == error_ref, (path, code)
        assert "Retry-After" in responses["503"]["headers"]
    for path in ("/api/models", "/api/hardware", "/api/hardware/compare"):
        responses = spec["paths"][path]["get"]["responses"]
        assert responses["421"]["content"]["application/json"]["schema"] == error_ref
        assert responses["422"]["content"]["application/json"]["schema"] == error_ref
    # the listings say what they hold: the names `model` and `hardware` accept
    items = spec["paths"]["/api/models"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    assert items == {"$ref": "#/components/schemas/ModelInfo"}
    assert {"key", "name", "aliases"} <= set(schemas["ModelInfo"]["properties"])
    assert {"key", "name", "aliases", "family"} <= set(schemas["ChipInfo"]["properties"])
    assert "/api/models" in schemas["TrainingRequest"]["properties"]["model"]["description"]
    assert "/api/hardware" in schemas["TrainingRequest"]["properties"]["hardware"]["description"]


def test_the_listed_names_are_the_names_accepted(client):
    models = {m["key"]: m for m in client.get("/api/models").json()}
    aliases = models["gpt-3"]["aliases"]
    assert aliases, models["gpt-3"]
    d = client.post("/api/estimate", json={"model": aliases[0], "samples": 200}).json()
    assert d["key"] == "gpt-3"
    chips = client.get("/api/hardware", params={"all": "true"}).json()
    curated = client.get("/api/hardware").json()
    assert {c["origin"] for c in chips} > {c["origin"] for c in curated}  # all=true adds Epoch's chips
    # GPT-3's chip, as Epoch's table names it, is listed only with all=true; it and H100's aliases are accepted
    v100 = models["gpt-3"]["hardware"][0]
    listed = {n for c in chips for n in (c["key"], c["name"], *c["aliases"])}
    assert v100 in listed and v100 not in {c["name"] for c in curated}, v100
    h100 = next(c for c in curated if c["key"].startswith("h100"))
    for name in (v100, *h100["aliases"][:2]):
        body = {"params": 7e9, "tokens": 1e12, "hardware": name, "chips": 8, "samples": 200}
        r = client.post("/api/estimate", json=body)
        assert r.status_code == 200, (name, r.text)


# -- the data, checked when the server starts ---------------------------------------------------------------------


def _folder(tmp_path: Path, header: str, rows: list[str]) -> str:
    (tmp_path / "ai_models.csv").write_text("\n".join([header, *rows]) + "\n")
    return str(tmp_path)


def test_serve_refuses_a_table_without_the_columns_trends_need(served, capsys, tmp_path):
    # the three required columns only: it loads, but the data trend (and the cost estimates) have nothing to read
    rows = [f"Model {i},202{i}-01-01,1e2{i}" for i in range(5)]
    folder = _folder(tmp_path, "Model,Publication date,Training compute (FLOP)", rows)
    code, _, err = run(["serve", "--data", folder], capsys)
    assert code == 2 and not served, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "lacks the column(s) Parameters, Training dataset size (datapoints)" in err and "trends need" in err


def test_serve_refuses_a_table_with_no_usable_models(served, capsys, tmp_path):
    header = (
        "Model,Publication date,Training compute (FLOP),Parameters,Training dataset size (datapoints),"
        "Training hardware,Hardware quantity,Training time (hours)"
    )
    folder = _folder(tmp_path, header, ["Model A,2024-13-01,1e22,,,,,", "Model B,,1e400,,,,,"])
    code, _, err = run(["serve", "--data", folder], capsys)
    assert code == 2 and not served, err
    assert len(err.strip().splitlines()) == 1 and "has 0 model(s) with a publication date and training compute" in err


def test_the_data_check_passes_the_embedded_snapshot_and_names_the_problem(epoch_dir, tmp_path):
    from flopcast.errors import CatalogError
    from flopcast.service import serving_data_check

    assert len(serving_data_check(str(epoch_dir)).records) > 1000
    rows = [f"Model {i},202{i}-01-01,1e2{i}" for i in range(5)]
    with pytest.raises(CatalogError, match="Parameters"):
        serving_data_check(_folder(tmp_path, "Model,Publication date,Training compute (FLOP)", rows))


def test_health_is_a_coroutine_and_heavy_work_runs_in_the_thread_pool(monkeypatch):
    # health runs in the event loop: no thread, no slot to wait for. The estimate waits for the limiter in the
    # event loop and runs its work in a thread of the pool (where no event loop runs)
    import asyncio

    import flopcast.service

    seen = []
    real = flopcast.service.training_estimate

    def spy(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            seen.append("event loop")
        except RuntimeError:
            seen.append("thread pool")
        return real(*args, **kwargs)

    monkeypatch.setattr(flopcast.service, "training_estimate", spy)
    app = create_app()
    client = TestClient(app)
    assert client.post("/api/estimate", json=CHEAP["/api/estimate"]).status_code == 200
    assert seen == ["thread pool"]
    routes = {r.path: r for r in app.routes if hasattr(r, "endpoint")}
    assert asyncio.iscoroutinefunction(routes["/api/health"].endpoint)
    assert client.get("/api/health").json() == {"ok": True}
