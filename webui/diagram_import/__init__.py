"""Process owners bring a diagram drawn by another tool into the editor (issue 12, conformance)."""

from .blueprint import diagram_import

__all__ = ["diagram_import"]
