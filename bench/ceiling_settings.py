"""Settings of the ceiling experiment (`bench/ceiling.py`): the app's, plus the
experiment's views (`bench/ceiling_urls.py`). Never used by the app or its tests."""

from installer.settings import *  # noqa: F403

ROOT_URLCONF = "bench.ceiling_urls"
