"""Running jobs on other machines: Celery workers over a Redis broker (issue 11).

The desktop keeps scheduling, history and the window; only the execution of a job moves to a
`jobdesk worker` on the job's pool. Nothing here is imported unless a broker is configured or
a worker runs, and nothing here imports Qt (a worker machine needs no display libraries).

- broker.py: the broker URL (checked, masked for display) and the "broker unreachable" reason;
- protocol.py: what travels through Redis (task payload, outcome, per-run stream, key names);
- celery_app.py: the Celery application both sides use (JSON only, task events on);
- task.py, publisher.py, leftovers.py, worker.py: the worker side (`jobdesk worker`);
- registry.py: which workers are online on which pool (their heartbeats);
- follow.py, remote_log.py: the desktop side following runs (used by
  jobs.runners.celery_runner).
"""
