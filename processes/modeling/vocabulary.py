"""What the editor's properties panel offers: handlers with their parameters, functions, and a syntax check.

The panel chooses a service task's operator from the handlers registered in this platform (with the
parameters each declares), lists the functions an expression may call, and asks the server whether an
expression is allowed — answered by the engine's own sandbox parser, the one deployment and run time use,
so the editor can never accept what the engine would refuse.
"""

from __future__ import annotations

from typing import Any

from engine.expressions import FUNCTIONS, MAX_TEXT, ExpressionError, compile_expression, constant_failure
from engine.handlers import HandlerRegistry

OPERATORS = ("+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "and", "or", "not", "in", "not in")
SYNTAX = ("x if condition else y", 'record["key"]', "record.key", "list[0]", "[1, 2]", '{"k": 1}')


def handlers(registry: HandlerRegistry) -> list[dict[str, Any]]:
    return [
        {
            "operator": h.operator,
            "inputs": list(h.inputs),
            "optional_inputs": list(h.optional_inputs),
            "description": h.description,
        }
        for h in sorted(registry.handlers.values(), key=lambda h: h.operator)
    ]


def vocabulary(registry: HandlerRegistry) -> dict[str, Any]:
    return {
        "handlers": handlers(registry),
        "functions": sorted(FUNCTIONS),
        "operators": list(OPERATORS),
        "syntax": list(SYNTAX),
        "literals": ["True", "False", "None", "123", "1.5", '"text"'],
    }


def check_expression(text: object) -> dict[str, Any]:
    """``{"ok": True}`` or ``{"ok": False, "code", "reason"}`` for one expression, by the engine's parser."""
    if not isinstance(text, str) or not text.strip():
        return {"ok": False, "code": "empty_expression", "reason": "the expression is empty"}
    if len(text) > MAX_TEXT:
        return {"ok": False, "code": "too_long", "reason": f"at most {MAX_TEXT} characters"}
    try:
        compile_expression(text)
    except ExpressionError as err:
        return {"ok": False, "code": err.code, "reason": str(err.args[0])}
    except SyntaxError as err:
        return {"ok": False, "code": "syntax", "reason": f"syntax error: {err.msg}"}
    failure = constant_failure(text)
    if failure is not None:
        return {"ok": False, "code": failure.code, "reason": str(failure.args[0])}
    return {"ok": True}
