"""Metrics: anonymous program measures per agency and region, suppressed or made
differentially private before anyone sees them, as JSON, CSV and a dashboard."""
