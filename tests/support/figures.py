"""Read the figures a service exports, as Prometheus would: over HTTP from `/metrics`, or
from this process's registry (the same text `/metrics` serves)."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample in Prometheus's text format, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(url: str) -> Samples:
    """What a scraper reads at `url`/metrics."""
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        answer = await client.get("/metrics")
    answer.raise_for_status()
    return parse(answer.text)


def registry() -> Samples:
    """What `/metrics` of a service in this process would show now."""
    return parse(generate_latest(REGISTRY).decode())


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sample `name` with exactly `labels`, if there is one."""
    return samples.get((name, frozenset(labels.items())))
