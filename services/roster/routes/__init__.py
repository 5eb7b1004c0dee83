"""The roster's HTTP routes, one module per directory, the recipients look-up for
notify, and the roster CSV that the import route reads (`roster_csv`)."""

from . import (
    coordinators,
    imports,
    officers,
    recipients,
    resources,
    settings,
    supporters,
    training,
)

ROUTERS = (
    supporters.router,
    training.router,
    officers.router,
    resources.router,
    settings.router,
    imports.router,
    coordinators.router,
    recipients.router,
)
