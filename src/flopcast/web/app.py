"""The local web app: FastAPI, server-rendered pages, a small bundled script, and a JSON API.

Every number comes from the functions the CLI calls (:mod:`flopcast.service`, the only layer
below the front-ends this app imports); the pages only format. Nothing is fetched from a CDN.
Requests cannot name files: models, chips and scenarios are looked up in the catalogs, and the
database folder is fixed when the server starts. What stands in front of the routes (the Host check, the
body-size limit, the bound on heavy work) is :mod:`flopcast.web.guards`; the heavy work itself, and the worker
processes that run it on every core, are :mod:`flopcast.web.workers`. Every error has one shape,
``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import AsyncIterator, Iterable
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from flopcast.defaults import DEFAULT_SAMPLES, usable_cores
from flopcast.errors import FlopcastError, InvalidInputError
from flopcast.web.guards import BodyLimit, Busy, HostGuard, WorkLimiter, error_body
from flopcast.web.schemas import (
    ChipInfo,
    DeployRequest,
    ErrorResponse,
    ForecastRequest,
    ModelInfo,
    PlanRequest,
    TrainingRequest,
    TrendRequest,
)
from flopcast.web.workers import WORK, WorkerPool

MAX_BODY_BYTES = 16 * 1024
#: samples held by the estimates running at once: four maximal requests (the server peaks near 400 MB)
MAX_SAMPLES_IN_FLIGHT = 400_000
#: heavy requests that may wait for a slot, and for how long, before a 503
MAX_WAITING = 64
WAIT_S = 10.0
RETRY_AFTER_S = 2
#: a trend estimates tens of models: it counts as this many times its samples
TREND_WEIGHT = 10
#: the Host names :func:`create_app` answers unless told otherwise (any port): this machine's loopback names, and
#: ``testserver``, the name the test client sends. ``flopcast serve`` passes the exact names and port it serves.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "testserver")
PAGES = {
    "/": "calculator.html",
    "/plan": "plan.html",
    "/deploy": "deploy.html",
    "/hardware": "hardware.html",
    "/trends": "trends.html",
}
_FIELD = re.compile(r"^unknown ([a-z_]+) |^-*([a-z_][a-z0-9_\-]*)=")
_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's words for a body it cannot decode


def default_max_heavy() -> int:
    """Heavy requests (estimate, plan, deploy, trend, forecast) that run at once: two per core this process may use."""
    return 2 * usable_cores()


def _error(msg: str, status: int = 422) -> JSONResponse:
    from flopcast.web.display import flag_field

    m = _FIELD.match(msg)
    field = (m.group(1) or m.group(2)).replace("-", "_") if m else flag_field(msg)
    loc = ["body", field] if field else ["body"]
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": "value_error"}]}, status_code=status)


class UnsupportedMediaType(Exception):
    """A JSON endpoint got a body that is not declared as JSON."""


_DESCRIPTIONS = {
    413: "the body is over 16 KiB (counted as it arrives, whatever Content-Length says)",
    415: "the body is not JSON (send content-type: application/json)",
    421: "the Host header names a host this server does not serve",
    422: "an input is invalid or unknown: one entry per field, the field in loc",
    503: "busy: the bound on heavy work is reached; retry after Retry-After seconds",
}


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {}
    for c in codes:
        out[c] = {"model": ErrorResponse, "description": _DESCRIPTIONS[c]}
        if c == 503:
            out[c]["headers"] = {
                "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}
            }
    return out


async def _json_body(request: Request) -> None:
    """A non-empty body must be declared as JSON (an empty one gets pydantic's 422 naming what is missing)."""
    if not await request.body():
        return
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        raise UnsupportedMediaType(f"content-type {kind or '(none)'!r} is not JSON; send application/json")


def create_app(
    data: str | None = None,
    *,
    allowed_hosts: Iterable[str] | None = LOCAL_HOSTS,
    max_heavy: int | None = None,
    max_samples_in_flight: int = MAX_SAMPLES_IN_FLIGHT,
    max_waiting: int = MAX_WAITING,
    wait_s: float = WAIT_S,
    workers: int = 1,
) -> FastAPI:
    """The app; ``data`` is Epoch's database folder (or ``cache``) for the trend explorer.

    ``allowed_hosts``: the Host headers answered, each ``name`` (any port) or ``name:port`` (IPv6 in brackets);
    others get 421. None answers every host (only when asked for). ``max_heavy`` (default two per core) estimate,
    deploy and trend requests run at once, holding at most ``max_samples_in_flight`` samples; up to
    ``max_waiting`` more wait at most ``wait_s`` seconds for a slot, and the rest get 503 with Retry-After.
    The limiter is ``app.state.limiter``.

    ``workers``: 1 (the default) runs the heavy requests in this process's thread pool; more runs them in that
    many worker processes (:class:`~flopcast.web.workers.WorkerPool`, ``app.state.pool``), each with its own copy
    of the database, so they use more than one core. The pool starts with the app's lifespan (``flopcast serve``,
    or a test client used as a context manager) and stops with it; without a lifespan it starts at the first
    heavy request and stops when the process exits. The limiter's bounds cover the pool.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInputError(f"workers={workers!r} must be a whole number >= 1")
    pool = WorkerPool(workers, data) if workers > 1 else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        if pool is not None:
            await asyncio.to_thread(pool.start)  # every worker up, its database loaded, before the first request
        try:
            yield
        finally:
            if pool is not None:
                await asyncio.to_thread(pool.close)

    app = FastAPI(
        title="flopcast",
        version=_version(),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        description="AI training and serving compute, hardware and dollar cost, with 90% intervals.",
        lifespan=lifespan,
    )
    state: dict[str, Any] = {"data": data, "db": None, "lock": threading.Lock()}
    limiter = WorkLimiter(
        max_heavy if max_heavy is not None else default_max_heavy(),
        max_samples_in_flight,
        max_waiting=max_waiting,
        wait_s=wait_s,
        retry_after_s=RETRY_AFTER_S,
    )
    app.state.limiter = limiter
    app.state.pool = pool
    static_dir = resources.files("flopcast.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")
    # pure ASGI, outermost last: the Host is checked before the body is read; the body is counted as it streams
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(HostGuard, allowed=allowed_hosts)

    @app.exception_handler(FlopcastError)
    async def flopcast_error(request: Request, exc: FlopcastError):
        # also the endpoints' own checks: they raise InvalidInputError, answered 422 naming the field
        return _error(str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        from flopcast.web.display import request_errors

        errors = []
        for e in exc.errors():
            if e.get("type") == "json_invalid" and (ctx := e.get("ctx") or {}).get("error"):
                e = {**e, "loc": list(e.get("loc", ()))[:1], "msg": f"{e.get('msg', '')}: {ctx['error']}"}
            errors.append(e)
        # one entry per field, in the CLI's words ("params=-5 must be > 0"), the field in loc
        return JSONResponse({"detail": request_errors(errors)}, status_code=422)

    async def http_error(request: Request, exc: Exception):
        # the HTTP errors the router, the static files and FastAPI's body parsing raise (registered by status, so
        # that Starlette's own HTTPException is caught without importing Starlette)
        status: int = getattr(exc, "status_code", 500)
        detail = getattr(exc, "detail", "")
        headers: dict[str, str] | None = getattr(exc, "headers", None)
        if status == 400 and detail == _PARSE_ERROR:
            cause = exc.__cause__
            msg = "the body is not valid JSON" + (f": {cause}" if cause is not None else "")
            return JSONResponse(error_body(["body"], msg, "json_invalid"), status_code=422)
        path = request.url.path[:200]
        if status == 404:
            body = error_body(["path"], f"nothing at {path}", "not_found")
        elif status == 405:
            allow = (headers or {}).get("Allow", "")
            body = error_body(
                ["method"], f"{request.method} is not allowed on {path}; allowed: {allow}", "method_not_allowed"
            )
        else:
            body = error_body([], str(detail), "http_error")
        return JSONResponse(body, status_code=status, headers=headers)

    for code in range(400, 500):  # in this app: 404, 405, and 400 for a body FastAPI cannot decode
        app.add_exception_handler(code, http_error)

    @app.exception_handler(UnsupportedMediaType)
    async def media_type_error(request: Request, exc: UnsupportedMediaType):
        return JSONResponse(error_body(["header", "content-type"], str(exc), "unsupported_media_type"), status_code=415)

    @app.exception_handler(Busy)
    async def busy_error(request: Request, exc: Busy):
        return JSONResponse(
            error_body([], str(exc), "busy"), status_code=503, headers={"Retry-After": str(exc.retry_after_s)}
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        # a bug: the traceback goes to the server's log, the client gets the app's shape
        return JSONResponse(error_body([], "internal error", "internal"), status_code=500)

    def database():
        with state["lock"]:
            if state["db"] is None:
                from flopcast.service import database as load

                state["db"] = load(state["data"])
            return state["db"]

    async def heavy(weight: int, kind: str, req: Any) -> dict:
        """Run ``WORK[kind]`` once the limiter admits it (waiting in the event loop, not a thread): in a worker
        process when the app has a pool, else in the thread pool. The slot is held until the work is done."""
        if pool is not None:
            return await limiter.run(weight, lambda: pool.run(kind, req))
        return await limiter.run(weight, lambda: run_in_threadpool(WORK[kind], req, database))

    # -- pages ---------------------------------------------------------------------------

    def page(path: str, template: str):
        def handler() -> HTMLResponse:
            return HTMLResponse(_render(template))

        handler.__name__ = f"page_{template.split('.')[0]}"
        app.get(path, response_class=HTMLResponse, include_in_schema=False)(handler)

    for path, template in PAGES.items():
        page(path, template)

    # -- API -----------------------------------------------------------------------------

    @app.get(
        "/api/models",
        summary="The database's models (Epoch's table with the curated overlay): the names `model` accepts",
        responses=_responses(421, 422),
    )
    def models(curated: bool = False) -> list[ModelInfo]:
        """Every model; ``curated=true`` only those whose architecture the curated catalog has (serving needs it)."""
        return [
            ModelInfo(
                key=r.key,
                name=r.name,
                aliases=list(r.aliases),
                publication_date=r.publication_date.isoformat() if r.publication_date else None,
                params=r.parameters,
                training_compute_flop=r.training_compute_flop,
                hardware=list(r.training_hardware),
                origin=r.origin,
                is_finetune=r.is_finetune,
            )
            for r in database().records
            if not curated or r.origin != "epoch"
        ]

    @app.get(
        "/api/hardware",
        summary="The curated chips (all=true: Epoch's chips too): the names `hardware` accepts",
        responses=_responses(421, 422),
    )
    def hardware(all_chips: Annotated[bool, Query(alias="all")] = False) -> list[ChipInfo]:
        """The curated chips, which serving needs (memory and bandwidth); ``all=true`` adds the chips of Epoch's
        table that the training estimate also accepts."""
        return [
            ChipInfo(
                key=h.key,
                name=h.name,
                aliases=list(h.aliases),
                family=h.family,
                origin=h.origin,
                peak_flop_per_s=h.peak_flop_per_s_by_precision,
                memory_bytes=h.memory_bytes,
                memory_bandwidth_bytes_per_s=h.memory_bandwidth_bytes_per_s,
            )
            for h in database().hardware
            if all_chips or h.origin != "epoch"
        ]

    @app.get(
        "/api/hardware/compare", summary="Compare chip b with chip a (ratios b / a)", responses=_responses(421, 422)
    )
    def compare(a: str, b: str, params: float = 175e9) -> dict:
        from flopcast.service import hardware_comparison

        if not (0 < params < 1e16):
            raise InvalidInputError(f"params={params:g} is outside (0, 1e16)")
        if len(a) > 100 or len(b) > 100:
            raise InvalidInputError("a chip name is at most 100 characters")
        from flopcast.web.display import compare_display

        out = hardware_comparison(a, b, params=params).to_dict()
        out["display"] = compare_display(out)
        return out

    heavy_responses = _responses(413, 415, 421, 422, 503)
    json_only = [Depends(_json_body)]

    @app.post(
        "/api/estimate",
        summary="Training compute and cost, with 90% intervals",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def estimate(req: TrainingRequest) -> dict:
        return await heavy(req.samples, "estimate", req)

    @app.post(
        "/api/plan",
        summary="A training run planned on one chip: layout, memory per rank, time, MFU and cost, and what binds",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def plan(req: PlanRequest) -> dict:
        """What ``flopcast plan --json`` prints for the same inputs, plus ``display`` (the page's rows). A layout
        that does not hold the run, or a fixed part that does not divide the model, is a 422 with the reason and a
        layout that fits."""
        return await heavy(req.samples, "plan", req)

    @app.post(
        "/api/deploy",
        summary="Serving cost for a load, with 90% intervals",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def deploy(req: DeployRequest) -> dict:
        return await heavy(req.samples, "deploy", req)

    @app.post(
        "/api/trend",
        summary="A log-linear trend with bands and extrapolation",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def trend(req: TrendRequest) -> dict:
        return await heavy(req.samples * TREND_WEIGHT, "trend", req)

    @app.post(
        "/api/forecast",
        summary="The largest training run (or the top-N frontier) year by year, by components",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def forecast(req: ForecastRequest) -> dict:
        return await heavy(DEFAULT_SAMPLES * TREND_WEIGHT, "forecast", req)

    @app.get("/api/health", include_in_schema=False)
    async def health() -> dict:
        # in the event loop: no thread, no slot of the limiter, nothing to wait for
        return {"ok": True}

    app.router.add_route("/favicon.ico", lambda request: Response(status_code=204), include_in_schema=False)
    return app


def _version() -> str:
    from flopcast import __version__

    return __version__


_TEMPLATES: dict[str, str] = {}


def _render(name: str) -> str:
    """Pages are static shells (the script fills them from the API): read, include the layout, cache."""
    if name not in _TEMPLATES:
        root = resources.files("flopcast.web").joinpath("templates")
        layout = root.joinpath("layout.html").read_text(encoding="utf-8")
        body = root.joinpath(name).read_text(encoding="utf-8")
        title = re.search(r"<!-- title: (.*?) -->", body)
        from flopcast.defaults import DEFAULT_COST_METHOD, DEFAULT_METHOD
        from flopcast.service import METHOD_CHOICES, METHOD_NAMES

        def options(names, default):
            return "".join(f"<option{' selected' if n == default else ''}>{n}</option>" for n in names)

        body = body.replace("{{ method_options }}", options(METHOD_CHOICES, DEFAULT_METHOD)).replace(
            "{{ cost_method_options }}", options(METHOD_NAMES, DEFAULT_COST_METHOD)
        )
        _TEMPLATES[name] = layout.replace("{{ title }}", title.group(1) if title else "flopcast").replace(
            "{{ body }}", body
        )
    return _TEMPLATES[name]
