"""The Jobs tab's data: snapshots loaded off the GUI thread, the table model and its proxy,
and the empty state drawn over the table."""
