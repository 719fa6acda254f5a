"""Audit packages (issue 13 part B): one zip with what an auditor needs to check tickets offline.

:mod:`.build` writes it from the database; :mod:`.verify` checks it with no database at all.
"""
