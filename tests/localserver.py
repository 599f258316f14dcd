"""The tests' fake sites and robots serve from the same local server as the demo's."""

from monitor.demo.local import LocalServer

__all__ = ["LocalServer"]
