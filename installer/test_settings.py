"""Settings for the test suite: the real settings with a throwaway SECRET_KEY and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")

from installer.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "test-output" / "media"  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# The suite counts queries per request: keep throttling counters out of the database.
# (installer/tests cover the database and Redis caches explicitly.)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}  # noqa: F405
# Whether a count is kept must not depend on how fast the test machine counts: the tests that
# are about slow counts set this themselves.
LIST_COUNT_CACHE_SLOW_MS = 60_000
# The suite's webhook receivers listen on 127.0.0.1; webhooks/tests/test_egress.py turns the
# guard on to test it.
WEBHOOK_ALLOW_PRIVATE_TARGETS = True
# Every route is called with bad credentials from one address (orders/tests/test_auth.py): the
# invalid-token limit is tested on its own (accounts/tests/test_brute_force.py).
API_INVALID_TOKEN_RATE_LIMIT = "off"
