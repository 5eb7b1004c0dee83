"""The roster's HTTP routes, one module per directory, the recipients look-up for
notify, and the roster CSV import; and what the portal reads for the people it
serves: the peer directory, a supporter's own page, the officer of an assignment, the
unfilled assignments. What they share is in `deps`."""

from . import (
    assignments,
    coordinators,
    directory,
    imports,
    me,
    officers,
    recipients,
    resources,
    settings,
    supporters,
    training,
    unfilled,
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
    directory.router,
    me.router,
    assignments.router,
    unfilled.router,
)
