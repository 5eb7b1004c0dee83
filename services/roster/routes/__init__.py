"""The roster's HTTP routes, one module per directory."""

from . import officers, resources, settings, supporters, training

ROUTERS = (
    supporters.router,
    training.router,
    officers.router,
    resources.router,
    settings.router,
)
