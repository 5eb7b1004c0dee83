"""Peerline's files at rest are their owner's alone: databases, logs, keys and backups
hold officers' care and supporters' contact details. A folder's 0700 protects what is
in it only while the folder keeps that mode, so every file is 0600 and every folder
0700 itself, whoever created them and whatever the umask was."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE, FOLDER_MODE = 0o600, 0o700


def keep_private(directory: Path) -> None:
    """From now on this process (and its children) create files for the owner only;
    `directory` and everything already in it is made so too."""
    os.umask(0o077)
    directory.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    directory.chmod(FOLDER_MODE)
    for root, folders, files in os.walk(directory):
        for name in folders:
            Path(root, name).chmod(FOLDER_MODE)
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(FILE_MODE)
