"""Run history: the paged table model, its filters, the output viewer and the panel holding them."""

from desktop.history.history_filter import HistoryFilter, HistoryFilterBar
from desktop.history.history_model import HistoryModel
from desktop.history.history_panel import HistoryPanel
from desktop.history.output_view import OutputView, RunOutputPanel

__all__ = ["HistoryFilter", "HistoryFilterBar", "HistoryModel", "HistoryPanel", "OutputView", "RunOutputPanel"]
