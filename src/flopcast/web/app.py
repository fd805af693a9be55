"""The local web app: FastAPI, server-rendered pages, a small bundled script, and a JSON API.

Every number comes from the functions the CLI calls (:mod:`flopcast.service`, the only layer
below the front-ends this app imports); the pages only format. Nothing is fetched from a CDN.
Requests cannot name files: models, chips and scenarios are looked up in the catalogs, and the
database folder is fixed when the server starts.
"""

from __future__ import annotations

import re
import threading
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from flopcast.errors import FlopcastError, InvalidInputError
from flopcast.service import histogram
from flopcast.web.schemas import DeployRequest, TrainingRequest, TrendRequest

MAX_BODY_BYTES = 16 * 1024
PAGES = {"/": "calculator.html", "/deploy": "deploy.html", "/hardware": "hardware.html", "/trends": "trends.html"}
_FIELD = re.compile(r"^unknown ([a-z_]+) |^-*([a-z_][a-z0-9_\-]*)=")


def _error(msg: str, status: int = 422) -> JSONResponse:
    m = _FIELD.match(msg)
    loc = ["body", (m.group(1) or m.group(2)).replace("-", "_")] if m else ["body"]
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": "value_error"}]}, status_code=status)


def create_app(data: str | None = None) -> FastAPI:
    """The app; ``data`` is Epoch's database folder (or ``cache``) for the trend explorer."""
    app = FastAPI(
        title="flopcast",
        version=_version(),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        description="AI training and serving compute, hardware and dollar cost, with 90% intervals.",
    )
    state = {"data": data, "db": None, "lock": threading.Lock()}
    static_dir = resources.files("flopcast.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse(
                {
                    "detail": [
                        {"loc": ["body"], "msg": f"request body over {MAX_BODY_BYTES} bytes", "type": "too_large"}
                    ]
                },
                status_code=413,
            )
        if request.method == "POST" and length is None:
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return JSONResponse(
                    {
                        "detail": [
                            {"loc": ["body"], "msg": f"request body over {MAX_BODY_BYTES} bytes", "type": "too_large"}
                        ]
                    },
                    status_code=413,
                )
        return await call_next(request)

    @app.exception_handler(FlopcastError)
    async def flopcast_error(request: Request, exc: FlopcastError):
        # also the endpoints' own checks: they raise InvalidInputError, answered 422 naming the field
        return _error(str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    def database():
        with state["lock"]:
            if state["db"] is None:
                from flopcast.service import database as load

                state["db"] = load(state["data"])
            return state["db"]

    # -- pages ---------------------------------------------------------------------------

    def page(path: str, template: str):
        def handler() -> HTMLResponse:
            return HTMLResponse(_render(template))

        handler.__name__ = f"page_{template.split('.')[0]}"
        app.get(path, response_class=HTMLResponse, include_in_schema=False)(handler)

    for path, template in PAGES.items():
        page(path, template)

    # -- API -----------------------------------------------------------------------------

    @app.get("/api/models", summary="The database's models (Epoch's table with the curated overlay)")
    def models(curated: bool = False) -> list[dict]:
        """Every model; ``curated=true`` only those whose architecture the curated catalog has (serving needs it)."""
        return [
            {
                "key": r.key,
                "name": r.name,
                "publication_date": r.publication_date,
                "params": r.parameters,
                "training_compute_flop": r.training_compute_flop,
                "hardware": list(r.training_hardware),
                "origin": r.origin,
                "is_finetune": r.is_finetune,
            }
            for r in database().records
            if not curated or r.origin != "epoch"
        ]

    @app.get("/api/hardware", summary="The curated chips")
    def hardware() -> list[dict]:
        return [
            {
                "key": h.key,
                "name": h.name,
                "peak_flop_per_s": h.peak_flop_per_s_by_precision,
                "memory_bytes": h.memory_bytes,
                "memory_bandwidth_bytes_per_s": h.memory_bandwidth_bytes_per_s,
            }
            for h in database().hardware
            if h.origin != "epoch"
        ]

    @app.get("/api/hardware/compare", summary="Compare chip b with chip a (ratios b / a)")
    def compare(a: str, b: str, params: float = 175e9) -> dict:
        from flopcast.service import hardware_comparison

        if not (0 < params < 1e16):
            raise InvalidInputError(f"params={params:g} is outside (0, 1e16)")
        if len(a) > 100 or len(b) > 100:
            raise InvalidInputError("a chip name is at most 100 characters")
        return hardware_comparison(a, b, params=params).to_dict()

    @app.post("/api/estimate", summary="Training compute and cost, with 90% intervals")
    def estimate(req: TrainingRequest) -> dict:
        from flopcast.service import training_estimate

        fields = req.model_dump(exclude={"model", "samples", "seed", "sensitivity"}, exclude_none=True)
        est = training_estimate(
            req.model,
            samples=req.samples,
            seed=req.seed,
            sensitivity=req.sensitivity,
            max_samples=100_000,
            db=database(),
            **fields,
        )
        out = est.to_dict()
        out["histograms"] = {m: histogram(s.samples) for m, s in est.cost_usd.items()}
        return out

    @app.post("/api/deploy", summary="Serving cost for a load, with 90% intervals")
    def deploy(req: DeployRequest) -> dict:
        from flopcast.service import deployment_estimate

        if (req.scenario is None) == (req.tokens_per_day is None):
            raise InvalidInputError("give a scenario or tokens_per_day (one of them)")
        est = deployment_estimate(
            req.model,
            params=req.params,
            hardware=req.hardware,
            chips=req.chips,
            precision=req.precision,
            batch=req.batch,
            context=req.context,
            tokens_per_day=req.tokens_per_day,
            scenario=req.scenario,
            price_usd_per_chip_hour=req.price_per_chip_hour,
            vs_training=req.vs_training,
            samples=req.samples,
            seed=req.seed,
        )
        out = est.to_dict()
        out["histograms"] = {"usd_per_million_tokens": histogram(est.usd_per_million_tokens.samples)}
        return out

    @app.post("/api/trend", summary="A log-linear trend with bands and extrapolation")
    def trend(req: TrendRequest) -> dict:
        from flopcast.service import trend_analysis

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
        return out

    @app.get("/api/health", include_in_schema=False)
    def health() -> dict:
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
