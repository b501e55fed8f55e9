"""PySide6's import hook answers "does this module use PySide6?" without keeping sources
(jobs.pyside_source_scan). A fresh interpreter: the hook runs on imports, once per module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, linecache, sys
import PySide6.QtCore
from jobs.pyside_source_scan import scan_sources_without_caching
scan_sources_without_caching()
import jobs.paths, qasync  # imported after: the hook looks at each (its top-level package)
feature = sys.modules["shibokensupport.feature"]
print(json.dumps({"cached": sorted(name for name in linecache.cache if name.startswith(sys.argv[1])),
                  "lines": sum(len(entry[2]) for entry in linecache.cache.values() if len(entry) > 2),
                  "uses": {name: feature.pyside_feature_dict.get(name) for name in ("jobs", "qasync")}}))
"""


def test_imports_after_pyside_keep_no_source_and_are_told_apart():
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["cached"] == [] and answer["lines"] == 0  # inspect.getsource kept every line of each
    # the hook's answer is unchanged: 0 = "uses PySide6" (features switchable), -1 = ignored
    assert answer["uses"] == {"jobs": -1, "qasync": 0}
