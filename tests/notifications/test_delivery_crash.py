"""A real ``closeloop worker`` SIGKILLed in the middle of a delivery: the message still arrives, once.

Slow: a worker subprocess on the suite's database and Redis, killed while the local WeChat server holds its
request (the provider has the message, our database does not know it yet: the one window a crash can hit).
The restarted worker's sweeper finds the row whose lease ran out and sends it again with the same
``client_msg_id``; WeChat, like the local server, shows the recipient one message.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import clean_database
from notifications.delivery_support import Providers, local_providers, outgoing, provider_key, with_providers
from redis import Redis
from sqlalchemy import select
from test_worker_processes import start_worker, stop, tagged, wait_until, worker_env

from engine.clock import Clock
from processes import demo
from processes.customers.models import Customer
from processes.notifications import service
from processes.notifications.templates import TEMPLATES
from processes.platform import Platform, Settings, build_platform

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")]


def env_of(providers: Providers) -> dict[str, str]:
    """The worker reads the same notification settings from its environment (CLOSELOOP_<FIELD>)."""
    import json
    from dataclasses import asdict

    values = asdict(providers.settings())
    env = {f"CLOSELOOP_{k.upper()}": json.dumps(v) if isinstance(v, dict) else str(v) for k, v in values.items()}
    env.update(
        CLOSELOOP_DELIVERY_LEASE_S="4",  # a killed worker's row is taken over after 4 s (production: 60 s)
        CLOSELOOP_SWEEP_EVERY_S="1",
        CLOSELOOP_SWEEP_GRACE_S="1",
    )
    return env


@pytest.fixture
def providers(tmp_path: Path) -> Iterator[Providers]:
    with local_providers(tmp_path) as started:
        yield started


@pytest.fixture
def live(settings: Settings, redis_connection: Redis, providers: Providers) -> Iterator[Platform]:
    clean_database(settings.database_url)
    redis_connection.flushdb()
    platform = build_platform(
        with_providers(settings, providers, delivery_lease_s=4), clock=Clock(), redis=redis_connection
    )
    platform.deploy_models("test")
    with platform.db.session() as session:
        demo.load(session)
    yield platform
    platform.db.dispose()


def test_a_worker_killed_mid_delivery_leaves_every_message_delivered_once(
    live: Platform, settings: Settings, providers: Providers, tmp_path: Path
) -> None:
    providers.wechat.delay_s = 3.0  # the provider holds the first request: the worker is killed meanwhile
    with live.db.session() as session:
        zh, en = session.scalars(select(Customer).order_by(Customer.id).limit(2)).all()
        zh.locale, zh.wechat_openid = "zh_Hans", "o-zh"
        en.locale, en.wechat_openid = "en", "o-en"
        session.flush()
        people = [
            service.Recipient("customer", c.id, c.locale, ("wechat",), wechat_openid=c.wechat_openid) for c in (zh, en)
        ]
        for template in TEMPLATES:
            params = {"ticket": "T-1", "urgency": "red", "customer": "客户", "problem": "主轴异响", "due": "-",
                      "device": "-", "engineer": "王工", "new_ticket": "T-2", "element": "派工", "attempts": 3,
                      "error": "timeout", "engineer_phone": "139", "link": "https://x/c/1", "reason": "r",
                      "comment": "c"}  # fmt: skip
            service.notify(
                session, key="crash", template=template, params=params, recipients=people, ticket=None,
                now=live.engine.clock.now(),
            )  # fmt: skip
    rows = outgoing(live)
    assert len(rows) == 2 * len(TEMPLATES)

    tag = uuid.uuid4().hex
    log = tmp_path / "workers.log"
    first = start_worker(worker_env(settings, tag, **env_of(providers)), log)
    try:
        assert wait_until(lambda: len(providers.wechat.requests) >= 1, timeout=60), log.read_text()[-3000:]
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=15) == -signal.SIGKILL
    finally:
        stop(first)
    held = providers.wechat.requests[0]["body"]["client_msg_id"]
    assert wait_until(lambda: providers.wechat.accepted[held] == 1, timeout=10)  # the provider took it
    (claimed,) = [row for row in outgoing(live) if row.status == "sending"]
    assert provider_key(claimed) == held  # and our database does not know: the crash window

    providers.wechat.delay_s = 0.0
    second = start_worker(worker_env(settings, tag, **env_of(providers)), log)
    try:
        done = wait_until(lambda: all(row.status == "sent" for row in outgoing(live)), timeout=90, step=0.5)
        assert done, ([(r.id, r.status, r.provider_answer) for r in outgoing(live)], log.read_text()[-3000:])
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
        stop(second)
        for process in tagged(tag):
            process.kill()

    rows = outgoing(live)
    shown = [item["key"] for item in providers.wechat.delivered]
    assert sorted(shown) == sorted(provider_key(row) for row in rows)  # every message shown, none twice
    assert providers.wechat.accepted[held] == 2  # sent twice across the crash, de-duplicated by client_msg_id
    assert all(providers.wechat.accepted[provider_key(row)] == 1 for row in rows if provider_key(row) != held)
    (again,) = [row for row in rows if provider_key(row) == held]
    assert again.attempts == 2
