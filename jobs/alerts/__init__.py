"""Alerts beyond the desktop: e-mail over SMTP and signed webhooks about a run's final outcome.

`addresses` checks what a job names; `config` keeps the SMTP settings, the default recipients
and the webhook secret (secrets in a user-only file); `policy` says which runs alert;
`channels` sends one e-mail or one webhook; `deliveries` does it on a worker thread with
timeouts and a bounded retry, and records every attempt on the run.
"""
