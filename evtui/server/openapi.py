"""Routes FastAPI does not describe itself (plain Starlette routes), added to its OpenAPI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def document_route(app: FastAPI, path: str, method: str, operation: dict[str, Any]) -> None:
    """Add `operation` to the schema FastAPI generates (once, on first request of it)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            generate()["paths"].setdefault(path, {})[method] = operation
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
