"""The web layer (Flask): the ``/api/v1`` HTTP API and, later, the pages.

Build an app with :func:`creditcase.web.app.create_app`; it depends on core
and never the other way round.
"""

from creditcase.web.app import create_app

__all__ = ["create_app"]
