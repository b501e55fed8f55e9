"""Conditions that make a due run wait: AC power, a network connection, a server that answers.

`requirements` parses what a job asks for; `source` is the small interface to what the machine
says (`ConditionSource`, with an in-memory implementation for tests); `system` reads the real
machine (psutil, Qt's QNetworkInformation, a TCP probe); `gate` re-checks waiting runs on a
worker thread and tells the dispatcher which may start and which waited too long.
"""
