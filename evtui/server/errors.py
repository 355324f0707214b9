"""Every HTTP error as one JSON shape: `{"detail": [{"loc": [...], "msg": "..."}]}`.

A sender fixes what it sent from the field path and the reason, whichever layer refused it:
our own checks, FastAPI's request validation, an unknown route or an unexpected failure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from evtui.events import FieldError

log = logging.getLogger(__name__)


def error_response(
    status: int, errors: Sequence[FieldError], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"detail": [error.model_dump() for error in errors]}, status, headers=headers
    )


def http_error(
    status: int, msg: str, loc: Sequence[str | int] = (), headers: dict[str, str] | None = None
) -> HTTPException:
    """An `HTTPException` whose detail already has our shape (raise it from any route)."""
    return HTTPException(status, detail=[{"loc": list(loc), "msg": msg}], headers=headers)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail: Any = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        detail = f"{request.url.path} does not accept {request.method}"
    if isinstance(detail, list):
        return JSONResponse({"detail": detail}, exc.status_code, headers=exc.headers)
    return error_response(exc.status_code, [FieldError(loc=[], msg=str(detail))], exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(loc=list(item["loc"]), msg=item["msg"].removeprefix("Value error, "))
        for item in exc.errors()
    ]
    return error_response(422, errors)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    msg = f"internal error ({type(exc).__name__}); the server log has the details"
    return error_response(500, [FieldError(loc=[], msg=msg)])


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
