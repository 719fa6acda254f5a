"""Turn a ticket into the skills its job needs: device type -> required skills, fault text -> fault skills."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .keywords import KeywordHit, KeywordMatcher, normalise_text
from .model import Ticket


def device_key(device_type: str) -> str:
    """Device types compare ignoring case, width and spacing: the DB and the mapping are typed by people."""
    return " ".join(normalise_text(device_type).split())


@dataclass(frozen=True)
class JobSkills:
    """What a ticket needs.

    `device_skills` are all required (policy `require_device_skills`); at least one of `fault_skills` is
    required when any were found (policy `require_fault_skill`). First-time-fix, proficiency and decline
    statistics are taken over `scored_skills`, the union of both.
    """

    device_type: str | None
    device_type_known: bool
    device_skills: tuple[str, ...]
    fault_skills: tuple[str, ...]
    keyword_hits: tuple[KeywordHit, ...]

    @property
    def scored_skills(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.device_skills, *self.fault_skills)))

    def to_dict(self) -> dict[str, object]:
        return {
            "device_type": self.device_type,
            "device_type_known": self.device_type_known,
            "device_skills": list(self.device_skills),
            "fault_skills": list(self.fault_skills),
            "keywords": [{"keyword": hit.keyword, "skills": list(hit.skills)} for hit in self.keyword_hits],
        }


class JobSkillResolver:
    """The two managed mappings, compiled once. Reuse across tickets (building the keyword matcher
    costs a few ms, plus ~0.5 s for jieba's dictionary the first time in a process)."""

    def __init__(self, keyword_skills: Mapping[str, Iterable[str]], device_skills: Mapping[str, Iterable[str]]):
        self.matcher = KeywordMatcher(keyword_skills)
        self._device_skills = {
            device_key(device): tuple(dict.fromkeys(skills)) for device, skills in device_skills.items()
        }

    def knows_device(self, device_type: str) -> bool:
        return device_key(device_type) in self._device_skills

    def resolve(self, ticket: Ticket) -> JobSkills:
        device_skills: tuple[str, ...] = ()
        known = False
        if ticket.device_type:
            key = device_key(ticket.device_type)
            known = key in self._device_skills
            device_skills = self._device_skills.get(key, ())
        hits: dict[str, KeywordHit] = {}
        # Explicit keywords are matched one by one so two adjacent ones cannot fuse into a phrase.
        for text in (ticket.description, *ticket.keywords):
            for hit in self.matcher.find(text):
                hits.setdefault(hit.keyword, hit)
        fault_skills = tuple(dict.fromkeys(skill for hit in hits.values() for skill in hit.skills))
        return JobSkills(ticket.device_type, known, device_skills, fault_skills, tuple(hits.values()))
