"""A whitelisted evaluator for the expressions process owners write in diagrams.

Process owners are not trusted with Python on our server (DESIGN rule 7), yet gateway conditions,
DMN entries, timer values and service-task parameters are expressions.  This module accepts a small
language that reads like Python but runs no Python code: literals, names from task data, arithmetic,
comparisons, boolean logic, ``x if c else y``, subscripts, ``a.b`` as a key lookup on a dict and calls
of a few pure functions.  No attribute access to objects, no names starting with ``_``, no lambdas,
comprehensions, f-strings or ``%`` formatting of text.

Every evaluation is bounded in time and memory *inside* each operator and builtin call: before an
operation runs, :mod:`engine.bounds` computes the size of its result and the work it will do from the
sizes of its inputs and refuses it if a limit would be crossed (see that module for why this is done
in-process and not in a subprocess).  Syntax is bounded too: text length and nesting depth are
checked before the tree is walked, so nothing here relies on ``RecursionError``.

Scripts are refused except a sequence of assignments (``a = expr``, ``a["k"] = expr``, ``a += expr``):
that keeps old diagrams with trivial script tasks running without opening a door to code.  All
statements of one script share one budget, and a script may not make a task-data value heavier than
one expression value may be, nor make a list or record contain itself.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping
from typing import Any

from . import bounds
from .bounds import FUNCTIONS, MAX_INT_BITS, MAX_STEPS, MAX_WEIGHT, ExpressionError, Meter

__all__ = [
    "FUNCTIONS",
    "MAX_INT_BITS",
    "MAX_STEPS",
    "MAX_SYNTAX_DEPTH",
    "MAX_TEXT",
    "MAX_WEIGHT",
    "ExpressionError",
    "check_script",
    "compile_expression",
    "constant_failure",
    "evaluate",
    "execute_assignments",
]

MAX_TEXT = 10_000  # characters of one expression or script
MAX_SYNTAX_DEPTH = 100  # nesting of the syntax tree; the evaluator recurses once per level

_BINARY: dict[type, Callable[[Meter, Any, Any], Any]] = {
    ast.Add: bounds.add,
    ast.Sub: bounds.sub,
    ast.Mult: bounds.mul,
    ast.Div: bounds.truediv,
    ast.FloorDiv: bounds.floordiv,
    ast.Mod: bounds.mod,
    ast.Pow: bounds.power,
}
_UNARY: dict[type, Callable[[Meter, Any], Any]] = {ast.USub: bounds.neg, ast.UAdd: bounds.pos, ast.Not: bounds.not_}
_COMPARE: dict[type, Callable[[Meter, Any, Any], Any]] = {
    ast.Eq: bounds.EQ,
    ast.NotEq: bounds.NE,
    ast.Lt: bounds.LT,
    ast.LtE: bounds.LE,
    ast.Gt: bounds.GT,
    ast.GtE: bounds.GE,
    ast.In: bounds.contains,
    ast.NotIn: bounds.not_contains,
    ast.Is: bounds.is_,
    ast.IsNot: bounds.is_not,
}
_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Subscript,
    ast.Slice,
    ast.Attribute,
    ast.Call,
    *_BINARY,
    *_UNARY,
    *_COMPARE,
)
_SAFE_TYPES = (str, int, float, bool, type(None))


def _check_depth(tree: ast.AST, text: str) -> None:
    """Refuse trees nested deeper than ``MAX_SYNTAX_DEPTH``, without recursing."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_SYNTAX_DEPTH:
            raise ExpressionError(
                "too_deep",
                f"the expression is nested more than {MAX_SYNTAX_DEPTH} levels deep",
                text[:80],
                limit=MAX_SYNTAX_DEPTH,
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _parse(text: str, mode: str, what: str) -> ast.AST:
    if len(text) > MAX_TEXT:
        raise ExpressionError("too_long", f"{what} may have at most {MAX_TEXT} characters", text[:80], limit=MAX_TEXT)
    try:
        # The filename marks the sandbox's own AST-only parse for audit hooks (tests/engine/test_no_python.py).
        tree = ast.parse(text.strip() if mode == "eval" else text, filename="<closeloop-expression>", mode=mode)
    except (RecursionError, MemoryError) as err:
        raise ExpressionError("too_deep", f"{what} is nested too deeply", text[:80]) from err
    except ValueError as err:  # e.g. an integer literal longer than Python converts
        raise ExpressionError("too_large", f"{what} holds a literal that is too large", text[:80]) from err
    _check_depth(tree, text)
    return tree


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> ast.Expression:
    """Parse and check an expression; raises ``SyntaxError`` for bad syntax (DMN relies on that)."""
    tree = _parse(text, "eval", "an expression")
    assert isinstance(tree, ast.Expression)
    for node in ast.walk(tree):
        _check_node(node, text)
    return tree


def _check_node(node: ast.AST, text: str) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise ExpressionError(
            "not_allowed",
            f"{type(node).__name__} is not allowed in diagram expressions",
            text,
            construct=type(node).__name__,
        )
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name.startswith("_"):
            raise ExpressionError("private_name", f"names starting with '_' are not allowed: {name}", text, name=name)
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, _SAFE_TYPES):
            raise ExpressionError("not_allowed", f"literal {node.value!r} is not allowed", text, construct="literal")
        if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
            raise ExpressionError(
                "too_large", f"a number literal has more than {MAX_INT_BITS} bits", text, limit=MAX_INT_BITS
            )
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise ExpressionError(
                "unknown_function", f"unknown function {called}()", text, name=called, allowed=sorted(FUNCTIONS)
            )
        if node.keywords:
            raise ExpressionError("not_allowed", "keyword arguments are not allowed", text, construct="keyword")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError("not_allowed", "'*' arguments are not allowed", text, construct="*")
    if isinstance(node, ast.Compare) and any(isinstance(op, ast.Is | ast.IsNot) for op in node.ops):
        operands = [node.left, *node.comparators]
        if not any(isinstance(o, ast.Constant) and o.value is None for o in operands):
            raise ExpressionError("not_allowed", "'is' only compares with None", text, construct="is")


class _Evaluator:
    """Walks a checked tree; every node is a step, every operation goes through :mod:`engine.bounds`."""

    def __init__(self, names: Mapping[str, Any], text: str, meter: Meter) -> None:
        self.names = names
        self.text = text
        self.meter = meter

    def run(self, node: ast.AST) -> Any:
        self.meter.step()
        return getattr(self, f"_{type(node).__name__}")(node)

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
        if isinstance(key, slice):
            if isinstance(value, Mapping):
                raise ExpressionError("bad_subscript", "records cannot be sliced", self.text)
            count = len(range(len(value))[key])
            self.meter.admit("a slice", count, count + 1)
            part = value[key]
            self.meter.weigh(part)  # memoised: elements already weighed are not walked again
            return part
        self.meter.step(self.meter.weigh(key))
        try:
            return value[key]
        except (KeyError, IndexError, TypeError) as err:
            raise ExpressionError("bad_subscript", f"no item {key!r}", self.text, key=repr(key)[:80]) from err

    def _Slice(self, node: ast.Slice) -> slice:
        parts = [None if p is None else self.run(p) for p in (node.lower, node.upper, node.step)]
        if not all(p is None or isinstance(p, int) for p in parts):
            raise ExpressionError("bad_subscript", "slice bounds must be whole numbers", self.text)
        if parts[2] == 0:
            raise ExpressionError("bad_subscript", "a slice step cannot be zero", self.text)
        return slice(*parts)

    def _elements(self, nodes: list[ast.expr], what: str) -> tuple[list[Any], int, int]:
        """Evaluate ``nodes`` in order, refusing as soon as their total weight is too large."""
        values, weight, depth = [], 1 + len(nodes), 1
        for element in nodes:
            value = self.run(element)
            weight += self.meter.weigh(value)
            depth = max(depth, self.meter.depth(value) + 1)
            if weight > MAX_WEIGHT:
                raise ExpressionError("too_large", f"{what} would be too large", self.text, limit=MAX_WEIGHT)
            values.append(value)
        self.meter.admit(what, weight, len(nodes) + 1)
        return values, weight, depth

    def _List(self, node: ast.List) -> list[Any]:
        values, weight, depth = self._elements(node.elts, "a list")
        return self.meter.remember(values, weight, depth)

    def _Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        values, weight, depth = self._elements(node.elts, "a list")
        return self.meter.remember(tuple(values), weight, depth)

    def _Dict(self, node: ast.Dict) -> dict[Any, Any]:
        if any(k is None for k in node.keys):
            raise ExpressionError("not_allowed", "'**' in a record is not allowed", self.text, construct="**")
        pairs, weight, depth = [], 1 + len(node.keys), 1
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            key, value = self.run(key_node), self.run(value_node)  # type: ignore[arg-type]
            weight += self.meter.weigh(key) + self.meter.weigh(value)
            depth = max(depth, self.meter.depth(key) + 1, self.meter.depth(value) + 1)
            if weight > MAX_WEIGHT:
                raise ExpressionError("too_large", "a record would be too large", self.text, limit=MAX_WEIGHT)
            pairs.append((key, value))
        self.meter.admit("a record", weight, 2 * len(pairs) + 1)
        try:
            return self.meter.remember(dict(pairs), weight, depth)
        except TypeError as err:
            raise ExpressionError("failed", "a record key must be a text or a number", self.text) from err

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
        return self.apply(_BINARY[type(node.op)], self.run(node.left), self.run(node.right))

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        return self.apply(_UNARY[type(node.op)], self.run(node.operand))

    def _Compare(self, node: ast.Compare) -> bool:
        left = self.run(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.run(right_node)
            if not self.apply(_COMPARE[type(op)], left, right):
                return False
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)

    def _Call(self, node: ast.Call) -> Any:
        func = FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
        return self.apply(func, *(self.run(a) for a in node.args))

    def apply(self, func: Callable[..., Any], *args: Any) -> Any:
        """Call a bounded operation; Python's own errors become :class:`ExpressionError`."""
        try:
            return func(self.meter, *args)
        except ExpressionError as err:
            err.expression = err.expression or self.text
            raise
        except (TypeError, ValueError, ArithmeticError, KeyError, IndexError) as err:
            raise ExpressionError("failed", str(err)[:200], self.text, detail=str(err)[:200]) from err


def evaluate(text: str, names: Mapping[str, object], meter: Meter | None = None) -> object:
    """Evaluate ``text`` against ``names`` (task data plus any context) within the limits of one evaluation.

    ``meter`` lets several evaluations share one budget (the statements of one script).
    """
    try:
        tree = compile_expression(text)
    except SyntaxError as err:
        raise ExpressionError("syntax", f"syntax error: {err.msg}", text[:200], detail=err.msg) from err
    return _run(tree, names, text, meter or Meter())


def constant_failure(text: str) -> ExpressionError | None:
    """Why an expression that reads no task data would be refused when it runs, or None.

    An expression naming no data (``'a' * 10**9``, ``9**9**9``, ``round(7, -10**9)``) fails the same way
    on every ticket, so deployment tries it once, within the same bounds as at run time, and refuses it
    then instead of letting every ticket stop on it later.  Expressions that name data are left to run time.
    """
    try:
        tree = compile_expression(text)
    except (ExpressionError, SyntaxError):
        return None  # the syntax check reports these
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    if any(isinstance(node, ast.Name) and id(node) not in called for node in ast.walk(tree)):
        return None
    try:
        _run(tree, {}, text, Meter())
    except ExpressionError as err:
        return err
    return None


def _run(tree: ast.AST, names: Mapping[str, Any], text: str, meter: Meter) -> Any:
    try:
        return _Evaluator(names, text, meter).run(tree)
    except ExpressionError as err:
        err.expression = err.expression or text[:200]
        raise
    except RecursionError as err:  # only when the caller's own stack is already deep
        raise ExpressionError("too_deep", "the expression is nested too deeply", text[:80]) from err
    except (TypeError, ValueError, ArithmeticError, KeyError, IndexError) as err:  # a gap in a check: still named
        raise ExpressionError("failed", str(err)[:200], text[:200], detail=str(err)[:200]) from err


def check_script(script: str) -> list[ast.stmt]:
    """Check that a script is only assignments of allowed expressions; return its statements."""
    try:
        module = _parse(script, "exec", "a script")
    except SyntaxError as err:
        raise ExpressionError("syntax", f"syntax error on line {err.lineno}: {err.msg}", script[:200]) from err
    assert isinstance(module, ast.Module)
    for stmt in module.body:
        if isinstance(stmt, ast.Assign | ast.AugAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                _check_target(target, script)
            _check_value(stmt.value, script)
        elif not (isinstance(stmt, ast.Pass)):
            raise ExpressionError(
                "script_not_allowed",
                f"line {stmt.lineno}: scripts may only assign values ({type(stmt).__name__} is not allowed); "
                "put logic in a service-task handler",
                script[:200],
                line=stmt.lineno,
                construct=type(stmt).__name__,
            )
    return module.body


def _check_value(node: ast.expr, script: str) -> None:
    for child in ast.walk(node):
        _check_node(child, script)


def _check_target(target: ast.expr, script: str) -> None:
    if isinstance(target, ast.Name):
        if target.id.startswith("_"):
            raise ExpressionError(
                "private_name", f"names starting with '_' are not allowed: {target.id}", script[:200], name=target.id
            )
        return
    if isinstance(target, ast.Subscript):
        _check_target(target.value, script)
        if isinstance(target.slice, ast.Slice):
            raise ExpressionError("script_not_allowed", "slices cannot be assigned", script[:200], construct="Slice")
        _check_value(target.slice, script)
        return
    raise ExpressionError(
        "script_not_allowed", "only names and name[key] can be assigned", script[:200], construct=type(target).__name__
    )


def execute_assignments(script: str, data: dict[str, object], extra: Mapping[str, object] | None = None) -> None:
    """Run a checked assignment script against ``data`` in place, all statements under one budget."""
    meter = Meter()
    for stmt in check_script(script):
        if isinstance(stmt, ast.Pass):
            continue
        assert isinstance(stmt, ast.Assign | ast.AugAssign)  # check_script admits nothing else
        names = {**(extra or {}), **data}
        meter.step(len(names))  # the copy above, once per statement
        value = _run(stmt.value, names, script[:200], meter)
        if isinstance(stmt, ast.AugAssign):
            current = _run(stmt.target, names, script[:200], meter)
            value = _Evaluator(names, script[:200], meter).apply(_BINARY[type(stmt.op)], current, value)
            targets: list[ast.expr] = [stmt.target]
        else:
            targets = stmt.targets
        for target in targets:
            _assign(target, value, data, names, script, meter)


def _assign(
    target: ast.expr, value: Any, data: dict[str, Any], names: Mapping[str, Any], script: str, meter: Meter
) -> None:
    meter.weigh(value)  # a value from task data assigned elsewhere is held to the same bound
    if isinstance(target, ast.Name):
        data[target.id] = value
        return
    assert isinstance(target, ast.Subscript)
    container = _run(target.value, names, script[:200], meter)
    key = _run(target.slice, names, script[:200], meter)
    if not isinstance(container, dict | list):
        raise ExpressionError("not_subscriptable", "only lists and records take [ ] =", script[:200])
    missing = object()
    try:
        previous = container.get(key, missing) if isinstance(container, dict) else container[key]
        container[key] = value
    except (IndexError, TypeError) as err:
        raise ExpressionError("bad_subscript", f"cannot set item {key!r}"[:120], script[:200]) from err
    meter.forget()
    root = target
    while isinstance(root, ast.Subscript):
        root = root.value  # type: ignore[assignment]
    try:
        meter.weigh(data.get(root.id) if isinstance(root, ast.Name) and root.id in data else container)
    except ExpressionError as err:  # too large or cyclic: put the old value back, then refuse
        if previous is missing:
            del container[key]
        else:
            container[key] = previous
        meter.forget()
        err.expression = err.expression or script[:200]
        raise
