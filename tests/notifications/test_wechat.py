"""WeChat template messages against a local server that checks appid/secret and token validity and expiry."""

from __future__ import annotations

import time

from notifications.local_providers import APPID, APPSECRET, wechat
from redis import Redis

from processes.notifications.channels.wechat import WeChatTemplates, client_msg_id


def adapter(port: int, redis: Redis, secret: str = APPSECRET) -> WeChatTemplates:
    redis.delete(f"closeloop:wechat:token:{APPID}")
    return WeChatTemplates(appid=APPID, secret=secret, cache=redis, endpoint=f"http://127.0.0.1:{port}", timeout_s=5)


def send(channel: WeChatTemplates, key: str = "k1", openid: str = "o-customer") -> object:
    return channel.send(openid=openid, template_id="TPL-1", data={"ticket": "T-1", "remark": "好"}, idempotency_key=key)


def test_sends_with_a_cached_token_and_the_row_key_as_client_msg_id(redis_connection: Redis) -> None:
    with wechat() as server:
        channel = adapter(server.port, redis_connection)
        first, second = send(channel, "k1"), send(channel, "k2")
        assert first.status == second.status == "sent"
        assert server.token_requests == 1, "the token is fetched once and cached in Redis"
        ttl = redis_connection.ttl(f"closeloop:wechat:token:{APPID}")
        assert 7200 - 300 - 5 <= ttl <= 7200 - 300
        body = server.requests[0]["body"]
        assert body["client_msg_id"] == client_msg_id("k1")
        assert body["data"] == {"ticket": {"value": "T-1"}, "remark": {"value": "好"}}
        assert first.provider_message_id == "1000"


def test_a_token_wechat_no_longer_accepts_is_refreshed_once(redis_connection: Redis) -> None:
    with wechat() as server:
        channel = adapter(server.port, redis_connection)
        assert send(channel, "k1").status == "sent"
        server.tokens.clear()  # another system fetched a new token: ours is invalid (40001)
        outcome = send(channel, "k2")
        assert outcome.status == "sent", outcome.provider_answer
        assert server.token_requests == 2
        assert [r["token"] for r in server.requests] == ["token-1", "token-1", "token-2"]


def test_an_expired_token_is_refreshed(redis_connection: Redis) -> None:
    with wechat(token_ttl_s=1) as server:
        channel = adapter(server.port, redis_connection)
        assert send(channel, "k1").status == "sent"
        time.sleep(1.1)  # WeChat's expiry passed; our cache (at least 60 s) still holds the token
        outcome = send(channel, "k2")
        assert outcome.status == "sent", outcome.provider_answer
        assert server.token_requests == 2
        assert '"errcode": 42001' not in outcome.provider_answer


def test_wrong_secret_is_a_permanent_refusal_with_the_answer(redis_connection: Redis) -> None:
    with wechat() as server:
        outcome = send(adapter(server.port, redis_connection, secret="wrong"))
        assert outcome.status == "failed"
        assert "40125" in outcome.provider_answer
        assert server.requests == [] and server.delivered == []


def test_5xx_and_unreachable_are_retried_unsubscribed_user_is_failed(redis_connection: Redis) -> None:
    with wechat(fail_first=1, refuse={"o-gone"}) as server:
        channel = adapter(server.port, redis_connection)
        assert send(channel, "k1").status == "retry"
        assert send(channel, "k1").status == "sent"
        refused = send(channel, "k2", openid="o-gone")
        assert refused.status == "failed" and "43004" in refused.provider_answer
        port = server.port
    assert send(adapter(port, redis_connection), "k3").status == "retry"  # server gone: connection refused


def test_the_same_client_msg_id_is_one_message(redis_connection: Redis) -> None:
    with wechat() as server:
        channel = adapter(server.port, redis_connection)
        assert send(channel, "k1").status == send(channel, "k1").status == "sent"
        assert len(server.requests) == 2 and len(server.delivered) == 1
