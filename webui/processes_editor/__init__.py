"""The process owner's editor (issue 12 §1): process list, BPMN and DMN editors, validate, deploy, diff."""

from .blueprint import processes_editor

__all__ = ["processes_editor"]
