"""The ASGI app (FastAPI) and the receiver that serves it inside the engine's loop."""
