"""Alerts beyond the desktop (issue 12): e-mail to a real SMTP server and signed webhooks to a
real HTTP server, both on loopback; real SQLite and real child processes."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import stat

import pytest

from jobs.alerts.config import secrets_path
from jobs.conditions.source import MemoryConditions
from jobs.model import CronSpec, JobSpec, Notify, RunRecord, RunStatus
from jobs.records_json import run_json
from jobs.service import JobService
from tests.conftest import py
from tests.jobs.alert_servers import HttpServer, SmtpServer, free_port, self_signed_certificate

YEARLY = CronSpec("0 0 1 1 *", "UTC")
FAILS = py("import sys; print('oops', file=sys.stderr); sys.exit(3)")


def job(name: str = "Nightly", command: tuple[str, ...] = FAILS, **kw) -> JobSpec:
    return JobSpec(name=name, command=command, trigger=YEARLY, **kw)


@pytest.fixture
def service(data_dir, qapp):
    service = JobService(data_dir, conditions=MemoryConditions())
    service.alerter.retry_delays = (0.05, 0.05)
    yield service
    service.shutdown()


def use_smtp(service: JobService, server: SmtpServer, **more: str) -> None:
    values = {"smtp.host": "127.0.0.1", "smtp.port": str(server.port), "smtp.security": "none",
              "smtp.from": "jobdesk@example.com", **more}  # fmt: skip
    for name, value in values.items():
        service.alert_config.set(name, value)


def delivered(service: JobService, run_id: int, qtbot, count: int = 1) -> RunRecord:
    """The run once its `count` deliveries are no longer pending."""
    def settled() -> bool:
        record = service.get_run(run_id)
        return len(record.alerts) == count and all(a.state != "pending" for a in record.alerts)

    qtbot.waitUntil(settled, timeout=15_000)
    return service.get_run(run_id)


def test_a_failed_run_is_emailed_with_its_error(service, qtbot):
    with SmtpServer() as smtp:
        use_smtp(service, smtp)
        saved = service.add_job(job(email=("me@example.com",)))
        run = service.wait_for_run(service.run_now(saved.id), timeout=20)
        record = delivered(service, run.id, qtbot)
        [(sender, recipients, message)] = smtp.messages
    assert (sender, recipients) == ("jobdesk@example.com", ["me@example.com"])
    assert message["Subject"] == f"[Jobdesk] Nightly failed (run #{run.id})"
    body = message.get_payload()
    assert "Exit code:     3" in body and "Error:         exit code 3" in body and "  oops" in body
    [alert] = record.alerts
    assert (alert.channel, alert.target, alert.state, alert.attempts, alert.error) == ("email", "me@example.com", "sent", 1, None)
    assert record.status is RunStatus.FAILED  # the run itself is as it ended


def test_the_notify_policy_decides_and_defaults_apply_to_jobs_without_addresses(service, qtbot):
    with SmtpServer() as smtp:
        use_smtp(service, smtp, alert_email="team@example.com, lead@example.com")
        quiet = service.add_job(job("Quiet", command=py("pass")))  # notify on failure: a success says nothing
        loud = service.add_job(job("Loud", command=py("pass"), notify=Notify.ALWAYS))
        never = service.add_job(job("Never", notify=Notify.NEVER))
        quiet_run = service.wait_for_run(service.run_now(quiet.id), timeout=20)
        never_run = service.wait_for_run(service.run_now(never.id), timeout=20)
        loud_run = service.wait_for_run(service.run_now(loud.id), timeout=20)
        delivered(service, loud_run.id, qtbot, count=2)
        assert service.alerter.idle()
        messages = smtp.messages
    assert sorted(recipients for _, recipients, _ in messages) == [["lead@example.com"], ["team@example.com"]]
    assert {message["Subject"] for _, _, message in messages} == {f"[Jobdesk] Loud succeeded (run #{loud_run.id})"}
    assert service.get_run(quiet_run.id).alerts == () and service.get_run(never_run.id).alerts == ()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its test certificate with the openssl command")
def test_starttls_and_login_with_the_stored_password(service, qtbot, data_dir, tmp_path, monkeypatch):
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the certificate verifies as a trusted one would
    with SmtpServer(login=("robot", "s3cret pass"), tls=(cert, key)) as smtp:
        use_smtp(service, smtp, **{"smtp.security": "starttls", "smtp.user": "robot", "smtp.password": "s3cret pass"})
        saved = service.add_job(job(email=("me@example.com",)))
        run = service.wait_for_run(service.run_now(saved.id), timeout=20)
        assert delivered(service, run.id, qtbot).alerts[0].state == "sent"
        assert smtp.logins == [("robot", "s3cret pass")] and len(smtp.messages) == 1
    assert stat.S_IMODE(secrets_path(data_dir).stat().st_mode) == 0o600
    assert "s3cret" not in data_dir.database.read_bytes().decode("latin-1")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # a test server on loopback
def test_a_refused_login_fails_at_once_and_is_recorded(service, qtbot):
    with SmtpServer(login=("robot", "right")) as smtp:
        use_smtp(service, smtp, **{"smtp.user": "robot", "smtp.password": "wrong"})
        saved = service.add_job(job(email=("me@example.com",)))
        run = service.wait_for_run(service.run_now(saved.id), timeout=20)
        [alert] = delivered(service, run.id, qtbot).alerts
    assert (alert.state, alert.attempts) == ("failed", 1)  # a wrong password does not get better
    assert alert.error.startswith("SMTP login refused: 535")


def test_a_self_signed_certificate_is_refused(service, qtbot, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    with SmtpServer(tls=(cert, key)) as smtp:
        use_smtp(service, smtp, **{"smtp.security": "starttls"})
        saved = service.add_job(job(email=("me@example.com",)))
        run = service.wait_for_run(service.run_now(saved.id), timeout=20)
        [alert] = delivered(service, run.id, qtbot).alerts
        assert smtp.messages == []
    assert alert.state == "failed" and "CERTIFICATE_VERIFY_FAILED" in alert.error


def test_starttls_against_a_server_without_it_says_so(service, qtbot):
    with SmtpServer() as smtp:
        use_smtp(service, smtp, **{"smtp.security": "starttls"})
        saved = service.add_job(job(email=("me@example.com",)))
        run = service.wait_for_run(service.run_now(saved.id), timeout=20)
        [alert] = delivered(service, run.id, qtbot).alerts
    assert alert.state == "failed" and "does not support" in alert.error and "STARTTLS" in alert.error


def test_an_unreachable_mail_server_is_tried_three_times_then_failed(service, qtbot):
    for name, value in {"smtp.host": "127.0.0.1", "smtp.port": str(free_port()), "smtp.security": "none",
                        "smtp.from": "jobdesk@example.com"}.items():  # fmt: skip
        service.alert_config.set(name, value)
    saved = service.add_job(job(email=("me@example.com",)))
    run = service.wait_for_run(service.run_now(saved.id), timeout=20)
    [alert] = delivered(service, run.id, qtbot).alerts
    assert (alert.state, alert.attempts) == ("failed", 3)
    assert alert.error.startswith("cannot reach 127.0.0.1:")


def test_a_webhook_posts_the_run_as_history_json_signed_with_the_secret(service, qtbot, data_dir):
    with HttpServer() as hook:
        saved = service.add_job(job(webhooks=(hook.url,)))
        run = service.wait_for_run(service.run_now(saved.id), timeout=20)
        record = delivered(service, run.id, qtbot)
        [received] = hook.received
    secret = json.loads(secrets_path(data_dir).read_text())["webhook_secret"]
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    assert received.headers["X-Jobdesk-Signature"] == expected
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    as_listed = run_json(record)
    assert received.json == {**as_listed, "alerts": []}
    assert as_listed["alerts"][0]["state"] == "sent" and as_listed["alerts"][0]["channel"] == "webhook"


def test_a_webhook_answering_500_is_retried_and_a_404_is_not(service, qtbot):
    with HttpServer(statuses=[500, 503]) as flaky, HttpServer(statuses=[404]) as missing:
        saved = service.add_job(job(webhooks=(flaky.url, missing.url)))
        run = service.wait_for_run(service.run_now(saved.id), timeout=20)
        first, second = delivered(service, run.id, qtbot, count=2).alerts
        assert len(flaky.received) == 3 and len(missing.received) == 1
    assert (first.state, first.attempts, first.error) == ("sent", 3, None)
    assert (second.state, second.attempts, second.error) == ("failed", 1, "HTTP 404 Not Found")


def test_a_run_that_waited_past_its_deadline_is_alerted(data_dir, qapp, qtbot):
    service = JobService(data_dir, conditions=MemoryConditions(ac_power=False))
    try:
        with HttpServer() as hook:
            saved = service.add_job(job(command=py("pass"), requires=("ac-power",), condition_deadline=0.5,
                                        webhooks=(hook.url,)))  # fmt: skip
            run = service.wait_for_run(service.run_now(saved.id), timeout=20)
            delivered(service, run.id, qtbot)
            [received] = hook.received
        assert received.json["status"] == "missed" and received.json["error"] == "missed: on battery for 500 ms"
        assert received.json["waiting_for"] == "AC power"
    finally:
        service.shutdown()


def test_a_delivery_pending_when_jobdesk_stops_is_sent_at_the_next_start(data_dir, qapp, qtbot):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    first = JobService(data_dir, conditions=MemoryConditions())
    first.alerter.retry_delays = (3600.0, 3600.0)
    try:
        saved = first.add_job(job(webhooks=(url,)))
        run = first.wait_for_run(first.run_now(saved.id), timeout=20)
        qtbot.waitUntil(lambda: bool(first.get_run(run.id).alerts) and first.get_run(run.id).alerts[0].attempts == 1,
                        timeout=15_000)  # fmt: skip
    finally:
        first.shutdown()
    [alert] = _read_alerts(data_dir, run.id)
    assert (alert.state, alert.attempts) == ("pending", 1)
    with HttpServer(port=port) as hook:
        second = JobService(data_dir, conditions=MemoryConditions())
        try:
            second.start()
            [alert] = delivered(second, run.id, qtbot).alerts
            assert (alert.state, alert.attempts) == ("sent", 2) and len(hook.received) == 1
        finally:
            second.shutdown()


def _read_alerts(data_dir, run_id: int):
    from jobs.db import open_database
    from jobs.history import HistoryRepository

    engine = open_database(data_dir.database)
    try:
        return HistoryRepository(engine).get(run_id).alerts
    finally:
        engine.dispose()
