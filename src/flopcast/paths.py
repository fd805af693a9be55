"""Where flopcast keeps what it makes once: the user cache folder, found without importing platformdirs.

``platformdirs`` costs a command about 20 ms to import, more than the whole of a replayed help
screen, so on Linux the folder comes from the XDG rule that platformdirs itself applies
(``$XDG_CACHE_HOME``, else ``~/.cache``, then ``flopcast``; tests/test_cli_startup.py checks the two
agree). Elsewhere (macOS, Windows) platformdirs answers.
"""

from __future__ import annotations

import os
import sys


def user_cache_dir() -> str:
    """The user cache folder of flopcast (``platformdirs.user_cache_dir("flopcast")``)."""
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not base.strip():
            base = os.path.expanduser("~/.cache")
        return os.path.join(base, "flopcast")
    from platformdirs import user_cache_dir as platform_cache_dir

    return platform_cache_dir("flopcast")
