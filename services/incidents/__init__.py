"""Incidents: critical-incident intake from agencies' dispatch and records systems.

Validates reports (HTTP and NATS), keeps only what rule 7 allows, maps source
types to categories, de-duplicates, and publishes `IncidentReported`, `IncidentUpdated`
and `IncidentRetracted` through its outbox.
"""
