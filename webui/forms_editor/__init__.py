"""The form builder pages (issue 12 §1), for the people who may edit processes."""

from .blueprint import forms_editor

__all__ = ["forms_editor"]
