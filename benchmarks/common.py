"""Helpers shared by the benchmarks."""

from __future__ import annotations

import threading
import time


class PeakRSS:
    """Polls the RSS of this process's Ray worker processes (children named ray::...)."""

    def __init__(self):
        import psutil

        self.psutil, self.me = psutil, psutil.Process()
        self.peak_worker = self.peak_total = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            total = 0
            for p in self.me.children(recursive=True):
                try:
                    if p.name().startswith("ray::"):
                        rss = p.memory_info().rss
                        total += rss
                        self.peak_worker = max(self.peak_worker, rss)
                except self.psutil.Error:
                    pass
            self.peak_total = max(self.peak_total, total)
            time.sleep(0.1)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
