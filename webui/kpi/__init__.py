"""KPI dashboards for supervisors and admins (issue 14): trends, hours, faults, causes."""
