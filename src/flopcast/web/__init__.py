"""The local web app (``flopcast serve``); needs the ``web`` extra (FastAPI, uvicorn)."""


def create_app(data: str | None = None, **options):
    """The FastAPI app; see :func:`flopcast.web.app.create_app` (``allowed_hosts`` and the limits)."""
    from flopcast.web.app import create_app as _create

    return _create(data=data, **options)


__all__ = ["create_app"]
