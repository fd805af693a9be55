"""The local web app: FastAPI, server-rendered pages, a small bundled script, and a JSON API.

Every number comes from the functions the CLI calls (:mod:`flopcast.service`, the only layer
below the front-ends this app imports); the pages only format. Nothing is fetched from a CDN.
Requests cannot name files: models, chips and scenarios are looked up in the catalogs, and the
database folder is fixed when the server starts. What stands in front of the routes (the Host check, the
body-size limit, the bound on heavy work) is :mod:`flopcast.web.guards`; every error has one shape,
``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from flopcast.defaults import DEFAULT_SAMPLES
from flopcast.errors import FlopcastError, InvalidInputError
from flopcast.service import MoneyOptions, histogram
from flopcast.web.guards import BodyLimit, Busy, HostGuard, WorkLimiter, error_body
from flopcast.web.schemas import (
    ChipInfo,
    DeployRequest,
    ErrorResponse,
    ForecastRequest,
    ModelInfo,
    TrainingRequest,
    TrendRequest,
)

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
PAGES = {"/": "calculator.html", "/deploy": "deploy.html", "/hardware": "hardware.html", "/trends": "trends.html"}
_FIELD = re.compile(r"^unknown ([a-z_]+) |^-*([a-z_][a-z0-9_\-]*)=")
_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's words for a body it cannot decode
T = TypeVar("T")


def default_max_heavy() -> int:
    """Heavy requests (estimate, deploy, trend) that run at once: two per core."""
    return 2 * (os.cpu_count() or 1)


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
) -> FastAPI:
    """The app; ``data`` is Epoch's database folder (or ``cache``) for the trend explorer.

    ``allowed_hosts``: the Host headers answered, each ``name`` (any port) or ``name:port`` (IPv6 in brackets);
    others get 421. None answers every host (only when asked for). ``max_heavy`` (default two per core) estimate,
    deploy and trend requests run at once, holding at most ``max_samples_in_flight`` samples; up to
    ``max_waiting`` more wait at most ``wait_s`` seconds for a slot, and the rest get 503 with Retry-After.
    The limiter is ``app.state.limiter``.
    """
    app = FastAPI(
        title="flopcast",
        version=_version(),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        description="AI training and serving compute, hardware and dollar cost, with 90% intervals.",
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

    async def heavy(weight: int, work: Callable[..., T], *args: Any) -> T:
        """Run ``work`` in the thread pool once the limiter admits it (waiting in the event loop, not a thread)."""
        async with limiter.slot(weight):
            return await run_in_threadpool(work, *args)

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

    def run_estimate(req: TrainingRequest) -> dict:
        from flopcast.service import cost_swings, training_estimate
        from flopcast.web.display import estimate_display, log_ticks

        money_fields = ("depreciation", "depreciation_years", "cost_of_capital", "grid")
        fields = req.model_dump(exclude={"model", "samples", "seed", "sensitivity", *money_fields}, exclude_none=True)
        est = training_estimate(
            req.model,
            samples=req.samples,
            seed=req.seed,
            sensitivity=req.sensitivity,
            max_samples=100_000,
            db=database(),
            money=MoneyOptions(**req.model_dump(include=set(money_fields))),
            **fields,
        )
        out = est.to_dict()
        out["histograms"] = {m: histogram(s.samples) for m, s in est.cost_usd.items()}
        swings = {m: cost_swings(est, m, min_share=0.005) for m in est.cost_usd} if req.sensitivity else {}
        out["display"] = estimate_display(est, swings)
        out["display"]["histogram_ticks"] = log_ticks(out["histograms"])
        return out

    @app.post(
        "/api/estimate",
        summary="Training compute and cost, with 90% intervals",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def estimate(req: TrainingRequest) -> dict:
        return await heavy(req.samples, run_estimate, req)

    def run_deploy(req: DeployRequest) -> dict:
        import math

        from flopcast.service import deployment_estimate
        from flopcast.web.display import deploy_display, log_ticks

        loads = [k for k in ("scenario", "tokens_per_day", "requests_per_s") if getattr(req, k) is not None]
        if len(loads) != 1:
            raise InvalidInputError("give one load: a scenario, tokens_per_day or requests_per_s")
        fields: dict[str, Any] = req.model_dump(exclude={"ttft_s", "tpot_s", "model"}, exclude_none=True)
        for k in ("ttft_s", "tpot_s"):
            fields[k] = math.inf if getattr(req, k) == "none" else getattr(req, k)
        fields["price_usd_per_chip_hour"] = fields.pop("price_per_chip_hour", None)
        est = deployment_estimate(req.model, **fields)
        out = est.to_dict()
        out["histograms"] = {"usd_per_million_tokens": histogram(est.usd_per_million_tokens.samples)}
        out["display"] = deploy_display(out)
        out["display"]["histogram_ticks"] = log_ticks(out["histograms"])
        return out

    @app.post(
        "/api/deploy",
        summary="Serving cost for a load, with 90% intervals",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def deploy(req: DeployRequest) -> dict:
        return await heavy(req.samples, run_deploy, req)

    def run_trend(req: TrendRequest) -> dict:
        from flopcast.service import trend_analysis
        from flopcast.web.display import trend_display

        if req.since is not None and req.until is not None and req.since > req.until:
            raise InvalidInputError(f"since={req.since} is after until={req.until}")
        t = trend_analysis(
            req.metric,
            top=req.top,
            since=req.since,
            until=req.until,
            cost_method=req.cost_method,
            extrapolate=req.extrapolate,
            bootstrap=0,
            samples=req.samples,
            seed=req.seed,
            db=database(),
            band_points=80,
        )
        out = dict(t.out)
        out.update(
            title=t.title,
            unit=t.unit,
            points=t.points(),
            band=t.band,
        )
        out["display"] = trend_display(out)
        return out

    @app.post(
        "/api/trend",
        summary="A log-linear trend with bands and extrapolation",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def trend(req: TrendRequest) -> dict:
        return await heavy(req.samples * TREND_WEIGHT, run_trend, req)

    def run_forecast(req: ForecastRequest) -> dict:
        from flopcast.service import frontier_forecast

        return frontier_forecast(
            req.metric,
            until=req.until,
            largest=req.largest,
            top=req.top,
            thresholds=req.thresholds,
            priors={k: (v[0], v[1]) for k, v in req.priors.items()},
            caps=req.caps,
            fit_since=req.fit_since,
            fit_until=req.fit_until,
            cost_method=req.cost_method,
            samples=req.samples,
            seed=req.seed,
            db=database(),
        ).to_dict()

    @app.post(
        "/api/forecast",
        summary="The largest training run (or the top-N frontier) year by year, by components",
        responses=heavy_responses,
        dependencies=json_only,
    )
    async def forecast(req: ForecastRequest) -> dict:
        return await heavy(DEFAULT_SAMPLES * TREND_WEIGHT, run_forecast, req)

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
