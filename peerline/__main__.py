"""`python -m peerline`, for environments where the console script is not on PATH."""

from peerline.cli import app

app(prog_name="peerline")
