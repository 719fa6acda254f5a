"""The web application: Flask factory, blueprints, templates, static assets and the JSON API.

Routes stay thin: they parse the request, call a service from ``processes`` and render.  May import
``processes`` and ``engine``; nothing imports from here except the CLI entry point.
"""
