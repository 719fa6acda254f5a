"""A whitelisted evaluator for the expressions process owners write in diagrams.

Process owners are not trusted with Python on our server (DESIGN rule 7), yet gateway conditions,
DMN entries, timer values and service-task parameters are expressions.  This module accepts a small
language that reads like Python but runs no Python code: literals, names from task data, arithmetic,
comparisons, boolean logic, ``x if c else y``, subscripts, ``a.b`` as a key lookup on a dict and calls
of a few pure functions.  No attribute access to objects, no names starting with ``_``, no lambdas or
comprehensions, and a step budget plus size limits so that nothing can run long or grow memory.

Scripts are refused except a sequence of assignments (``a = expr``, ``a["k"] = expr``, ``a += expr``):
that keeps old diagrams with trivial script tasks running without opening a door to code.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

from .isotime import add_duration, parse_instant

MAX_STEPS = 10_000
MAX_SIZE = 100_000  # characters of a string, elements of a list
MAX_INT_BITS = 4_096
MAX_TEXT = 10_000  # characters of one expression or script


class ExpressionError(ValueError):
    """An expression is not allowed or failed to evaluate.  ``code`` is stable for translation."""

    def __init__(self, code: str, message: str, expression: str = "", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.expression = expression
        self.params = params

    def __str__(self) -> str:
        where = f" in expression {self.expression!r}" if self.expression else ""
        return f"{self.args[0]}{where}"


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp,
    ast.Constant, ast.Name, ast.Load, ast.List, ast.Tuple, ast.Dict, ast.Subscript, ast.Slice,
    ast.Attribute, ast.Call, *_BINARY, *_UNARY, *_COMPARE,
)
_SAFE_TYPES = (str, int, float, bool, type(None), list, tuple, dict)


def _checked(value: Any) -> Any:
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_SIZE:
        raise ExpressionError("too_large", f"a value grew beyond {MAX_SIZE} elements")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError("too_large", "a number grew too large")
    return value


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 1


def _mul(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_SIZE:
            raise ExpressionError("too_large", f"a value grew beyond {MAX_SIZE} elements")
    return a * b


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a).bit_length() * b > MAX_INT_BITS:
        raise ExpressionError("too_large", "a number grew too large")
    return a**b


_BINARY[ast.Mult] = _mul
_BINARY[ast.Pow] = _pow


def _round(value: Any, digits: int = 0) -> Any:
    return round(value, digits) if digits else round(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": _round,
    "sum": sum,
    "any": any,
    "all": all,
    "sorted": sorted,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "add_duration": add_duration,
    "parse_instant": lambda s: parse_instant(s).isoformat(),
}


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> ast.Expression:
    """Parse and check an expression; raises ``SyntaxError`` for bad syntax (DMN relies on that)."""
    if len(text) > MAX_TEXT:
        raise ExpressionError("too_long", f"an expression may have at most {MAX_TEXT} characters", text[:80])
    try:
        # The filename marks the sandbox's own AST-only parse for audit hooks (tests/engine/test_no_python.py).
        tree = ast.parse(text.strip(), filename="<closeloop-expression>", mode="eval")
    except (RecursionError, MemoryError) as err:
        raise ExpressionError("too_deep", "the expression is nested too deeply", text[:80]) from err
    for node in ast.walk(tree):
        _check_node(node, text)
    return tree


def _check_node(node: ast.AST, text: str) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise ExpressionError(
            "not_allowed", f"{type(node).__name__} is not allowed in diagram expressions", text,
            construct=type(node).__name__,
        )
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name.startswith("_"):
            raise ExpressionError("private_name", f"names starting with '_' are not allowed: {name}", text,
                                  name=name)
    if isinstance(node, ast.Constant) and not isinstance(node.value, _SAFE_TYPES):
        raise ExpressionError("not_allowed", f"literal {node.value!r} is not allowed", text,
                              construct="literal")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError("unknown_function", f"unknown function {called}()", text, name=called,
                                  allowed=sorted(FUNCTIONS))
        if node.keywords:
            raise ExpressionError("not_allowed", "keyword arguments are not allowed", text,
                                  construct="keyword")
    if isinstance(node, ast.Compare) and any(isinstance(op, ast.Is | ast.IsNot) for op in node.ops):
        operands = [node.left, *node.comparators]
        if not any(isinstance(o, ast.Constant) and o.value is None for o in operands):
            raise ExpressionError("not_allowed", "'is' only compares with None", text, construct="is")


class _Evaluator:
    def __init__(self, names: Mapping[str, Any], text: str) -> None:
        self.names = names
        self.text = text
        self.steps = 0

    def run(self, node: ast.AST) -> Any:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ExpressionError("too_many_steps", f"evaluation took more than {MAX_STEPS} steps", self.text)
        method = getattr(self, f"_{type(node).__name__}")
        return _checked(method(node))

    def _Expression(self, node: ast.Expression) -> Any:
        return self.run(node.body)

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            return self.names[node.id]
        raise ExpressionError("unknown_name", f"name '{node.id}' is not defined", self.text, name=node.id)

    def _Attribute(self, node: ast.Attribute) -> Any:
        value = self.run(node.value)
        if isinstance(value, Mapping) and node.attr in value:
            return value[node.attr]
        raise ExpressionError("unknown_field", f"no field '{node.attr}'", self.text, name=node.attr)

    def _Subscript(self, node: ast.Subscript) -> Any:
        value = self.run(node.value)
        if not isinstance(value, str | list | tuple | Mapping):
            raise ExpressionError("not_subscriptable", "only lists, texts and records take [ ]", self.text)
        key = self.run(node.slice)
        try:
            return value[key]
        except (KeyError, IndexError, TypeError) as err:
            raise ExpressionError("bad_subscript", f"no item {key!r}", self.text, key=repr(key)) from err

    def _Slice(self, node: ast.Slice) -> slice:
        parts = [None if p is None else self.run(p) for p in (node.lower, node.upper, node.step)]
        if not all(p is None or isinstance(p, int) for p in parts):
            raise ExpressionError("bad_subscript", "slice bounds must be whole numbers", self.text)
        return slice(*parts)

    def _List(self, node: ast.List) -> list[Any]:
        return [self.run(e) for e in node.elts]

    def _Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self.run(e) for e in node.elts)

    def _Dict(self, node: ast.Dict) -> dict[Any, Any]:
        if any(k is None for k in node.keys):
            raise ExpressionError("not_allowed", "'**' in a record is not allowed", self.text, construct="**")
        return {self.run(k): self.run(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any = None
        for value_node in node.values:
            result = self.run(value_node)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result

    def _BinOp(self, node: ast.BinOp) -> Any:
        return self._apply(_BINARY[type(node.op)], self.run(node.left), self.run(node.right))

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        return self._apply(_UNARY[type(node.op)], self.run(node.operand))

    def _Compare(self, node: ast.Compare) -> bool:
        left = self.run(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.run(right_node)
            if not self._apply(_COMPARE[type(op)], left, right):
                return False
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)

    def _Call(self, node: ast.Call) -> Any:
        func = FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
        args = [self.run(a) for a in node.args]
        if func is sorted or func is sum:
            self.steps += sum(_size(a) for a in args)
        return self._apply(func, *args)

    def _apply(self, func: Callable[..., Any], *args: Any) -> Any:
        try:
            return func(*args)
        except ExpressionError as err:
            err.expression = err.expression or self.text
            raise
        except (TypeError, ValueError, ArithmeticError, KeyError) as err:
            raise ExpressionError("failed", str(err), self.text, detail=str(err)) from err


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate ``text`` against ``names`` (task data plus any context) with the limits above."""
    try:
        tree = compile_expression(text)
    except SyntaxError as err:
        raise ExpressionError("syntax", f"syntax error: {err.msg}", text, detail=err.msg) from err
    try:
        return _Evaluator(names, text).run(tree)
    except RecursionError as err:
        raise ExpressionError("too_deep", "the expression is nested too deeply", text[:80]) from err


def check_script(script: str) -> list[ast.stmt]:
    """Check that a script is only assignments of allowed expressions; return its statements."""
    if len(script) > MAX_TEXT:
        raise ExpressionError("too_long", f"a script may have at most {MAX_TEXT} characters", script[:80])
    try:
        module = ast.parse(script, filename="<closeloop-expression>")
    except (RecursionError, MemoryError) as err:
        raise ExpressionError("too_deep", "the script is nested too deeply", script[:80]) from err
    except SyntaxError as err:
        raise ExpressionError("syntax", f"syntax error on line {err.lineno}: {err.msg}", script) from err
    for stmt in module.body:
        if isinstance(stmt, ast.Assign | ast.AugAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                _check_target(target, script)
            compile_expression(ast.unparse(stmt.value))
        elif not (isinstance(stmt, ast.Pass)):
            raise ExpressionError(
                "script_not_allowed",
                f"line {stmt.lineno}: scripts may only assign values ({type(stmt).__name__} is not allowed); "
                "put logic in a service-task handler",
                script, line=stmt.lineno, construct=type(stmt).__name__,
            )
    return module.body


def _check_target(target: ast.expr, script: str) -> None:
    if isinstance(target, ast.Name):
        if target.id.startswith("_"):
            raise ExpressionError("private_name", f"names starting with '_' are not allowed: {target.id}", script,
                                  name=target.id)
        return
    if isinstance(target, ast.Subscript):
        _check_target(target.value, script)
        compile_expression(ast.unparse(target.slice))
        return
    raise ExpressionError("script_not_allowed", "only names and name[key] can be assigned", script,
                          construct=type(target).__name__)


def execute_assignments(script: str, data: dict[str, Any], extra: Mapping[str, Any] | None = None) -> None:
    """Run a checked assignment script against ``data`` in place."""
    for stmt in check_script(script):
        if isinstance(stmt, ast.Pass):
            continue
        value = evaluate(ast.unparse(stmt.value), {**(extra or {}), **data})
        if isinstance(stmt, ast.AugAssign):
            current = evaluate(ast.unparse(stmt.target), {**(extra or {}), **data})
            value = _Evaluator({}, script)._apply(_BINARY[type(stmt.op)], current, value)
            targets = [stmt.target]
        else:
            targets = stmt.targets
        for target in targets:
            _assign(target, value, data, extra, script)


def _assign(target: ast.expr, value: Any, data: dict[str, Any], extra: Mapping[str, Any] | None,
            script: str) -> None:
    if isinstance(target, ast.Name):
        data[target.id] = value
        return
    assert isinstance(target, ast.Subscript)
    container = evaluate(ast.unparse(target.value), {**(extra or {}), **data})
    key = evaluate(ast.unparse(target.slice), {**(extra or {}), **data})
    if isinstance(container, dict | list):
        try:
            container[key] = value
            return
        except (IndexError, TypeError) as err:
            raise ExpressionError("bad_subscript", f"cannot set item {key!r}", script) from err
    raise ExpressionError("not_subscriptable", "only lists and records take [ ] =", script)

