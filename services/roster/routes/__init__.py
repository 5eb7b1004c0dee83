"""The roster's HTTP routes, one module per directory, the recipients look-up for
notify, and the roster CSV import; and what the portal reads for the people it
serves: the peer directory, a supporter's own page, the officer of an assignment and its
acknowledgment, the unfilled and the waiting assignments, an officer's requests. What
they share is in `deps`."""

from . import (
    assignments,
    coordinators,
    directory,
    imports,
    me,
    officers,
    recipients,
    requests,
    resources,
    settings,
    supporters,
    training,
    unfilled,
    waiting,
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
    requests.router,
    waiting.router,
)
