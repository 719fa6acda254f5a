"""Rate limits of the doors: failed logins (per account and per address), bad API tokens and bad
customer links (per address), counted in the platform's Redis so every web process shares them.

Only failures count: a guessing attack is what fails many times, while a colleague behind the same
office address who logs in correctly is not slowed down.  Once a counter reaches its limit the door is
closed for the rest of its window — even to the right password, or guessing would merely be slower —
and the refusal says how many seconds to wait (``Retry-After``).
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

PREFIX = "closeloop:throttle"


@dataclass(frozen=True)
class Limits:
    """How many failures each counter allows within ``window_s`` seconds."""

    login_per_account: int = 5
    login_per_address: int = 20
    token_per_address: int = 20
    link_per_address: int = 20
    window_s: int = 900


class Throttled(Exception):
    """A door closed for ``retry_after_s`` more seconds (``scope``: login, token or link)."""

    def __init__(self, scope: str, retry_after_s: int) -> None:
        super().__init__(scope, retry_after_s)
        self.scope = scope
        self.retry_after_s = retry_after_s


@dataclass
class Throttle:
    redis: Redis
    limits: Limits

    def check_login(self, username: str, address: str) -> None:
        """Raise :class:`Throttled` if this account or this address has failed too often."""
        self._check("login", [("account", username.lower()[:100], self.limits.login_per_account)], address)

    def failed_login(self, username: str, address: str) -> None:
        self._count("login", [("account", username.lower()[:100])], address)

    def logged_in(self, username: str) -> None:
        """The right password within the limit: the account's own count starts again (the address's
        does not — other accounts may be guessed from it)."""
        self.redis.delete(self._keys("login", [("account", username.lower()[:100])], "")[0])

    def check(self, scope: str, address: str) -> None:
        """``scope`` is ``token`` or ``link``: failures counted per address."""
        self._check(scope, [], address)

    def failed(self, scope: str, address: str) -> None:
        self._count(scope, [], address)

    def _limit_of(self, scope: str) -> int:
        return {
            "login": self.limits.login_per_address,
            "token": self.limits.token_per_address,
            "link": self.limits.link_per_address,
        }[scope]

    def _keys(self, scope: str, extra: list[tuple[str, str]], address: str) -> list[str]:
        return [f"{PREFIX}:{scope}:{kind}:{value}" for kind, value in [*extra, ("address", address)]]

    def _check(self, scope: str, extra: list[tuple[str, str, int]], address: str) -> None:
        limits = [limit for _, _, limit in extra] + [self._limit_of(scope)]
        keys = self._keys(scope, [(kind, value) for kind, value, _ in extra], address)
        pipe = self.redis.pipeline()
        for key in keys:
            pipe.get(key)
            pipe.ttl(key)
        answers = pipe.execute()
        for index, limit in enumerate(limits):
            count, ttl = answers[2 * index], answers[2 * index + 1]
            if count is not None and int(count) >= limit:
                raise Throttled(scope, max(int(ttl), 1))

    def _count(self, scope: str, extra: list[tuple[str, str]], address: str) -> None:
        """One more failure on each counter; a counter's window starts at its first failure."""
        pipe = self.redis.pipeline()
        for key in self._keys(scope, extra, address):
            pipe.set(key, 0, ex=self.limits.window_s, nx=True)
            pipe.incr(key)
        pipe.execute()
