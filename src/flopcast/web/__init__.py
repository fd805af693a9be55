"""The local web app (``flopcast serve``); needs the ``web`` extra (FastAPI, uvicorn)."""


def create_app(data: str | None = None):
    """The FastAPI app; see :func:`flopcast.web.app.create_app`."""
    from flopcast.web.app import create_app as _create

    return _create(data=data)


__all__ = ["create_app"]
