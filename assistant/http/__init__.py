"""The HTTP service: ``create_app()`` (FastAPI) around one warm ``Assistant`` per process.

Importing this package imports nothing heavy; ``assistant.http.app`` pulls in FastAPI and the
assistant, ``assistant.http.server.run`` starts uvicorn and ``assistant.http.worker`` the rq worker.
"""
