"""The `peerline` command: a local stack, tokens and a view of the bus for developers
and operators."""
