"""The read API (tags as a service): API keys (`keys`) and the Starlette routes under /api/v1 (`routes`),
served by the app's own process beside the pages (serve.py)."""
