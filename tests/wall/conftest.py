"""The wall's tests reuse the tracking pipeline and the fake robots."""

from tests.notify.conftest import make_notifier, robots  # noqa: F401
from tests.track.conftest import pipeline  # noqa: F401
