"""The Peerline services. Each one is deployed alone and never imports another."""
