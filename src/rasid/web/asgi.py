"""ASGI entry point for Uvicorn workers: ``uvicorn rasid.web.asgi:app``."""

from rasid.web.app import create_app

app = create_app()
