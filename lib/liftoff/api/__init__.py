"""The HTTP API under /api/v1: pipelines push imports and read summaries with a bearer token.

`routes()` gives the Starlette routes that the app's server mounts next to Streamlit's own;
`app()` is the same API as an ASGI app on its own (for tests and for hosting it apart).
"""

from liftoff.api.routes import API_PREFIX, app, routes, standalone

__all__ = ["API_PREFIX", "app", "routes", "standalone"]
