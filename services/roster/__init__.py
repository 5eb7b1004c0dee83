"""Roster: the program's directories, kept by coordinators.

Peer supporters (with their training, availability and sealed contact details),
officers (unit, rank, supervisor, and their own contact details, sealed), officers'
own preferences, the resource directory and each agency's settings. Publishes changes
as `ps.<agency>.roster.*` events that carry no personal details, and loads the roster
as `domain` values for matching. For the portal: the peer directory (never recorded),
a supporter's own page, how the assigned supporter reaches their officer, and the
assignments matching could not fill.
"""
