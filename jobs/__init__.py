"""Jobdesk's scheduling core: job definitions, triggers, store, runner and scheduler.

Usable without a window: this package may import QtCore (timers, signals, local sockets)
but never QtGui or QtWidgets.
"""

__version__ = "0.1.0"
