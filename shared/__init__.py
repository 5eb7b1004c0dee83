"""What every Peerline service shares: event contracts, bus, storage, auth, telemetry."""
