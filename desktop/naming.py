"""Object and accessible names for widgets and actions, set in one call.

Tests, screen readers and the stylesheet find widgets by these names. Qt for Python accepts
`objectName=` as a constructor keyword, but its type stubs do not, so code that mypy checks
names things through `named(...)`.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

Q = TypeVar("Q", bound=QObject)


def named(obj: Q, name: str, accessible: str | None = None) -> Q:
    """Set `obj`'s objectName and, when given, a widget's accessibleName (a label's text is
    already what a screen reader says: leave it be)."""
    obj.setObjectName(name)
    if accessible is not None and isinstance(obj, QWidget):
        obj.setAccessibleName(accessible)
    return obj
