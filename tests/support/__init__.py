"""Test support: real NATS servers, real databases, services served over real HTTP."""
