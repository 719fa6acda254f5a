"""The offline tools the command line offers, reached through the domain layer like everything else.

``webui/`` imports ``processes`` only (issue 9's import contract); these are the handlers' pure
functions the CLI runs on files without a platform: planning a dispatch scenario and comparing a
before/after photo pair.  Importing this module loads nothing heavy: each tool imports on call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handlers.dispatch import ScenarioError as ScenarioError
    from handlers.evidence.errors import MediaRejected as MediaRejected


def run_scenario(path: str, *, mode: str = "batch") -> dict[str, Any]:
    """Plan the dispatch scenario in ``path`` (docs/dispatch-scenario.md); raises ``ScenarioError``."""
    from handlers.dispatch import run_scenario as run

    return run(path, mode=mode)


def compare_files(before: str, after: str, **kwargs: Any) -> dict[str, Any]:
    """The close-out's photo comparison on two files; raises ``MediaRejected``."""
    from handlers.evidence.compare import compare_files as compare

    return compare(before, after, **kwargs)


def __getattr__(name: str) -> type[Exception]:
    """The tools' error types, imported only when a caller names them."""
    if name == "ScenarioError":
        from handlers.dispatch import ScenarioError

        return ScenarioError
    if name == "MediaRejected":
        from handlers.evidence.errors import MediaRejected

        return MediaRejected
    raise AttributeError(name)
