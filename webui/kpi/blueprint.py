"""The ``kpi`` blueprint: the dashboards and their drill-down.

Supervisors and admins run the service by these figures; process owners and auditors may read them
too (every page here only reads, and both roles already see tickets and journals).
"""

from __future__ import annotations

from flask import Blueprint

from ..auth.gate import only_for
from . import views

kpi = Blueprint("kpi", __name__)
KPI_ROLES = ("supervisor", "admin", "process_owner", "auditor")
only_for(kpi, KPI_ROLES)

kpi.add_url_rule("/kpi", "dashboard", views.dashboard, methods=["GET"])
kpi.add_url_rule("/kpi/cases", "cases", views.cases, methods=["GET"])
kpi.add_url_rule("/kpi/reports/<sha256>.pdf", "report", views.report, methods=["GET"])
kpi.add_url_rule("/kpi/faults", "fault_cases", views.fault_cases, methods=["GET"])
