"""Engineer dispatch: shortlist engineers for a ticket, plan a whole backlog, evaluate scenarios offline.

Pure Python over dataclasses and numpy arrays; the process layer loads engineers, tickets, mappings
and the policy from the database and the DMN table and passes them in.

Typical round::

    index = EngineerIndex(engineers)                       # once per roster snapshot
    resolver = JobSkillResolver(keyword_skills, device_skills)  # once per mapping version
    result = EngineerShortlist(index, resolver, policy).shortlist(ticket, excluded_engineer_ids=declined)
    result.candidates, result.reason, result.explanation()
    plan = BacklogAssignment(index, resolver, policy).plan(tickets, "batch", accepted=..., declined=...)
"""

from .backlog import BacklogAssignment, BacklogPlan, PlannedAssignment, UnassignedTicket
from .backlog_problem import BacklogProblem
from .history import ClosedJob, OfferOutcome, decline_history, fix_history, record_offer
from .index import EngineerIndex, beta_smoothed
from .keywords import KeywordHit, KeywordMatcher
from .model import (
    DeclineHistory,
    DeclineReason,
    Engineer,
    EngineerStatus,
    FixHistory,
    GeoPoint,
    Ticket,
    Urgency,
)
from .policy import DispatchPolicy, PolicyError
from .reasons import Reason, ReasonCode
from .relax import LADDER, WIDER_RADIUS_KM, Relaxation, RelaxedResult, RelaxedShortlist, RelaxStep
from .scenario import ScenarioError, load_scenario, run_scenario
from .scoring import ScoreFactor
from .shortlist import Candidate, EngineerShortlist, ShortlistResult, SkillEvidence
from .skills import JobSkillResolver, JobSkills

__all__ = [
    "BacklogAssignment",
    "BacklogPlan",
    "BacklogProblem",
    "Candidate",
    "ClosedJob",
    "DeclineHistory",
    "DeclineReason",
    "DispatchPolicy",
    "Engineer",
    "EngineerIndex",
    "EngineerShortlist",
    "EngineerStatus",
    "FixHistory",
    "GeoPoint",
    "JobSkillResolver",
    "JobSkills",
    "KeywordHit",
    "KeywordMatcher",
    "LADDER",
    "OfferOutcome",
    "PlannedAssignment",
    "PolicyError",
    "Reason",
    "ReasonCode",
    "RelaxStep",
    "Relaxation",
    "RelaxedResult",
    "RelaxedShortlist",
    "ScenarioError",
    "ScoreFactor",
    "ShortlistResult",
    "SkillEvidence",
    "Ticket",
    "UnassignedTicket",
    "Urgency",
    "WIDER_RADIUS_KM",
    "beta_smoothed",
    "decline_history",
    "fix_history",
    "load_scenario",
    "record_offer",
    "run_scenario",
]
