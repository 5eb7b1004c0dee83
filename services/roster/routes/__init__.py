"""The roster's HTTP routes, one module per directory, and the roster CSV that the
import route reads (`roster_csv`)."""

from . import imports, officers, resources, settings, supporters, training

ROUTERS = (
    supporters.router,
    training.router,
    officers.router,
    resources.router,
    settings.router,
    imports.router,
)
