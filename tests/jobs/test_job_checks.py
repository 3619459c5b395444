"""The system checks of the background-export settings, one id per problem."""

from __future__ import annotations

import pytest

from exports.checks import check_job_settings


def test_the_defaults_pass(settings):
    assert check_job_settings() == []


@pytest.mark.parametrize(
    ("setting", "value", "error_id"),
    [
        ("EXPORTS_JOB_EXPIRES_AFTER", 0, "exports.E030"),
        ("EXPORTS_JOB_EXPIRES_AFTER", "1 day", "exports.E030"),
        ("EXPORTS_JOB_STALE_AFTER", True, "exports.E031"),
        ("EXPORTS_BACKGROUND_THRESHOLD", -5, "exports.E032"),
        ("EXPORTS_JOB_GZIP", "yes", "exports.E033"),
        ("EXPORTS_JOB_ENQUEUE", "exports.nowhere.enqueue", "exports.E034"),
        ("EXPORTS_JOB_ENQUEUE", "exports.conf.app_settings", "exports.E034"),
        ("EXPORTS_JOB_TASK_BACKEND", "elsewhere", "exports.E035"),
    ],
)
def test_a_bad_setting_is_reported_with_its_id(settings, setting, value, error_id):
    setattr(settings, setting, value)
    messages = check_job_settings()
    assert [message.id for message in messages] == [error_id]
    assert setting.removeprefix("EXPORTS_") in messages[0].msg or "task backend" in messages[0].msg


def test_the_rq_engine_needs_a_redis_url(settings):
    settings.EXPORTS_JOB_ENQUEUE = "exports.engines.rq.enqueue"
    assert check_job_settings() == []
    settings.EXPORTS_RQ_URL = "127.0.0.1:6379"
    assert [message.id for message in check_job_settings()] == ["exports.E036"]


def test_no_threshold_is_allowed(settings):
    settings.EXPORTS_BACKGROUND_THRESHOLD = None
    assert check_job_settings() == []
