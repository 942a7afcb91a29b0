"""Settings: NEWSFLOW_* environment, sane defaults, secrets masked, clear conflicts."""

import pytest

from workers.settings import Settings, mask_secrets, mask_url


def test_defaults_are_embedded(clean_env):
    s = Settings()
    assert s.embedded and s.effective_redis_url is None and s.prefetch == 2


def test_environment_is_read(clean_env):
    clean_env.setenv("NEWSFLOW_BROKER_URL", "redis://localhost:6379/3")
    clean_env.setenv("NEWSFLOW_MAX_ARTICLE_BYTES", "1234")
    s = Settings()
    assert not s.embedded
    assert s.effective_redis_url == "redis://localhost:6379/3"  # store follows a Redis broker
    assert s.max_article_bytes == 1234


def test_rabbitmq_broker_needs_a_redis_url(clean_env):
    with pytest.raises(Exception) as err:
        Settings(broker_url="amqp://guest:guest@localhost:5672//")
    assert "NEWSFLOW_REDIS_URL" in str(err.value)
    assert "guest:guest" not in str(err.value)
    s = Settings(broker_url="amqp://localhost//", redis_url="rediss://:pw@cache:6380/0")
    assert s.effective_redis_url.startswith("rediss://")


def test_visibility_timeout_must_outlast_the_hard_limit(clean_env):
    with pytest.raises(Exception) as err:
        Settings(visibility_timeout_s=100, stage_time_limit_s=120)
    assert "VISIBILITY_TIMEOUT_S" in str(err.value)


def test_passwords_are_masked(clean_env):
    s = Settings(broker_url="redis://user:s3cret@host:6379/0")
    assert "s3cret" not in str(s.masked())
    assert mask_url("rediss://:pw@h:1/0") == "rediss://:***@h:1/0"
    assert mask_secrets("failed to reach amqp://u:topsecret@mq//") == "failed to reach amqp://u:***@mq//"


def test_visibility_timeout_must_outlast_the_longest_retry_countdown(clean_env):
    with pytest.raises(Exception) as err:
        Settings(visibility_timeout_s=30, stage_time_limit_s=20, stage_soft_time_limit_s=10, retry_backoff_max_s=10)
    assert "NEWSFLOW_RETRY_BACKOFF_MAX_S" in str(err.value)
    Settings(visibility_timeout_s=30, stage_time_limit_s=20, stage_soft_time_limit_s=10, retry_backoff_max_s=9)
