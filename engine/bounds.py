"""Sizes and costs of diagram expressions, checked before anything is allocated or computed.

Why an in-process meter and not a subprocess with resource limits: a limit on CPU time or a
wall-clock kill is not deterministic (the same expression may pass on an idle machine and fail on a
busy one, so a replay or a reload could take another branch than the original run), a process costs
an IPC round trip per expression, and it must behave the same in a Flask thread and in an rq
work-horse.  Here every value has a *weight*, a cheap upper bound of its expanded size, and every
operator and builtin computes the weight of its result and the work it will do from the weights of
its inputs *before* calling Python.  The answer depends only on the expression and the data.

Weight: a string weighs its length, an int its decimal digits, other scalars 1, and a list, tuple or
dict ``1 + len`` plus the weights of its items counted as many times as they occur (so
``[[0] * 100_000] * 100_000`` weighs 10^10 although it holds two lists).  Weights of containers are
memoised by ``id`` for one evaluation, so a repeated inner list is weighed once.

Three budgets per evaluation (a script shares one for all its statements):

* ``MAX_WEIGHT`` for any single value built or used in an operation;
* ``MAX_ALLOCATED`` for the new memory (list slots, characters, digits) all built values take; at
  ≤ 8 bytes per unit this keeps one evaluation far under 64 MB even if it keeps every value alive;
* ``MAX_STEPS`` steps, where one step is one syntax node or ``WORK_PER_STEP`` element operations
  done by a builtin (comparisons, copies, hashing), so a single ``sorted`` or ``==`` is bounded too.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from . import isotime

V = TypeVar("V")  # a value the meter has weighed

MAX_STEPS = 10_000
WORK_PER_STEP = 256  # element operations of a builtin that count as one evaluation step
MAX_WORK = MAX_STEPS * WORK_PER_STEP
MAX_WEIGHT = 1_000_000  # expanded size of one value: characters, digits, elements
MAX_ALLOCATED = 4_000_000  # new units (≤ 8 bytes each) all values of one evaluation may take
MAX_INT_BITS = 4_096
MAX_INT_DIGITS = MAX_INT_BITS // 3 + 1  # decimal digits of the largest allowed int (an upper bound)
MAX_NUMBER_TEXT = 1_400  # characters int()/float() may parse
MAX_VALUE_DEPTH = 64  # nesting of lists and records
REPR_FACTOR = 24  # characters str() may write per unit of weight (a float is 1 unit, ≤ 24 characters)
CASE_FACTOR = 3  # lower()/upper() may turn one character into three ("ß" → "SS", "ΐ" → 3)
CONTAINER_UNITS = 128  # work of visiting one container of task data in Python (~0.5 µs)
SORTED_CHAR_UNITS = 8  # a one-character string made by sorted("…") takes ~64 bytes


class ExpressionError(ValueError):
    """An expression is not allowed or failed to evaluate.  ``code`` is stable for translation."""

    def __init__(self, code: str, message: str, expression: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.expression = expression
        self.params = params

    def __str__(self) -> str:
        where = f" in expression {self.expression!r}" if self.expression else ""
        return f"{self.args[0]}{where}"


def _too_large(what: str, weight: int, limit: int = MAX_WEIGHT) -> ExpressionError:
    return ExpressionError(
        "too_large",
        f"{what} would be too large ({weight:,} units, at most {limit:,})",
        what=what,
        weight=weight,
        limit=limit,
    )


def int_weight(value: int) -> int:
    """Decimal digits of ``value``, bounded from above without converting it."""
    return abs(value).bit_length() // 3 + 1


_ONE_UNIT = frozenset({bool, float, type(None)})
_NUMBERS = frozenset({int, bool, float})


def _flat_weight(items: Any) -> int | None:
    """The weight of the items of a list of scalars, at C speed; None if it holds containers.

    An upper bound like every weight: ints count the digits of the largest, empty texts count 1.
    """
    types = set(map(type, items))
    if types <= _ONE_UNIT:
        return len(items)
    if types <= _NUMBERS:
        biggest = max(map(abs, items))
        if isinstance(biggest, float) and not math.isfinite(biggest):  # inf or nan hid the largest int
            biggest = max((abs(item) for item in items if isinstance(item, int)), default=0)
        return len(items) * int_weight(int(biggest))
    if types == {str}:
        return len(items) + sum(map(len, items))
    return None


class Meter:
    """Weights, new memory and work of one evaluation; refuses before the limit is crossed."""

    def __init__(self) -> None:
        self.work = 0
        self.allocated = 0
        self._known: dict[int, tuple[int, int]] = {}  # id → (weight, depth) of containers
        self._pinned: list[Any] = []  # keeps memoised containers alive so their ids stay theirs

    # -- budgets ----------------------------------------------------------------------------
    def step(self, units: int = WORK_PER_STEP) -> None:
        self.work += units
        if self.work > MAX_WORK:
            raise ExpressionError("too_many_steps", f"evaluation took more than {MAX_STEPS} steps", limit=MAX_STEPS)

    def admit(self, what: str, weight: int, new_units: int) -> None:
        """Refuse a value of ``weight`` that takes ``new_units`` of new memory, before it is built."""
        if weight > MAX_WEIGHT:
            raise _too_large(what, weight)
        if self.allocated + new_units > MAX_ALLOCATED:
            raise _too_large("the values of this expression together", self.allocated + new_units, MAX_ALLOCATED)
        self.allocated += new_units
        self.step(new_units)

    def remember(self, value: V, weight: int, depth: int) -> V:
        """Record the weight and nesting depth of a container just built from weighed parts."""
        if depth > MAX_VALUE_DEPTH:
            raise _too_deep()
        if isinstance(value, list | tuple | dict):
            self._known[id(value)] = (weight, depth)
            self._pinned.append(value)
        return value

    def forget(self) -> None:
        """Drop memoised weights: a script changed a container in place."""
        self._known.clear()
        self._pinned.clear()

    # -- weights ----------------------------------------------------------------------------
    def weigh(self, value: object) -> int:
        """The weight of ``value``; refuses values over ``MAX_WEIGHT``, cycles and unknown types."""
        return self._measure(value)[0]

    def depth(self, value: object) -> int:
        """How deeply lists and records nest in ``value`` (0 for a scalar)."""
        return self._measure(value)[1]

    def _measure(self, value: Any) -> tuple[int, int]:
        if isinstance(value, str):
            return len(value) or 1, 0
        if isinstance(value, bool | float) or value is None:
            return 1, 0
        if isinstance(value, int):
            return int_weight(value), 0
        if isinstance(value, list | tuple | dict):
            known = self._known.get(id(value))
            return known if known is not None else self._weigh(value, 1, set())
        raise ExpressionError(
            "not_allowed",
            f"a value of type {type(value).__name__} cannot be used in expressions",
            construct=type(value).__name__,
        )

    def _weigh(self, value: Any, depth: int, active: set[int]) -> tuple[int, int]:
        key = id(value)
        known = self._known.get(key)
        if known is not None:
            return known
        if key in active:
            raise ExpressionError("cyclic", "a list or record contains itself")
        if depth > MAX_VALUE_DEPTH:
            raise _too_deep()
        if len(value) >= MAX_WEIGHT:
            raise _too_large("a list or record", len(value) + 1)
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        self.step(CONTAINER_UNITS + len(items))
        flat = _flat_weight(items)
        if flat is not None:
            total, deepest = 1 + len(value) + flat, 1
        else:
            active.add(key)
            total, deepest = 1 + len(value), 1
            for item in items:
                if isinstance(item, list | tuple | dict):
                    weight, below = self._weigh(item, depth + 1, active)
                    deepest = max(deepest, below + 1)
                else:
                    weight = self._measure(item)[0]
                total += weight
                if total > MAX_WEIGHT:
                    raise _too_large("a list or record", total)
            active.discard(key)
        if total > MAX_WEIGHT:
            raise _too_large("a list or record", total)
        self._known[key] = (total, deepest)
        self._pinned.append(value)
        return total, deepest


def _too_deep() -> ExpressionError:
    return ExpressionError(
        "too_deep", f"lists and records may be nested at most {MAX_VALUE_DEPTH} deep", limit=MAX_VALUE_DEPTH
    )


# -- operators ----------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float)


def _check_int(meter: Meter, bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise ExpressionError("too_large", f"a number would have more than {MAX_INT_BITS} bits", limit=MAX_INT_BITS)
    meter.step(bits // 64 + 1)


def _numbers(meter: Meter, name: str, a: Any, b: Any, bits: int) -> None:
    if not (_is_number(a) and _is_number(b)):
        raise ExpressionError(
            "failed", f"'{name}' needs two numbers, not {type(a).__name__} and {type(b).__name__}", detail=name
        )
    if isinstance(a, int) and isinstance(b, int):
        _check_int(meter, bits)


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _repeat(meter: Meter, seq: Any, times: Any) -> Any:
    count = max(0, int(times))
    if isinstance(seq, str):
        weight = len(seq) * count
        meter.admit("a repeated text", weight, weight)
    else:
        weight = (meter.weigh(seq) - 1) * count + 1
        meter.admit("a repeated list", weight, len(seq) * count + 1)
    return meter.remember(seq * count, weight, meter.depth(seq) if not isinstance(seq, str) else 0)


def _concat(meter: Meter, a: Any, b: Any) -> Any:
    if isinstance(a, str):
        weight = len(a) + len(b)
        meter.admit("a joined text", weight, weight)
    else:
        weight = meter.weigh(a) + meter.weigh(b) - 1
        meter.admit("a joined list", weight, len(a) + len(b) + 1)
    return meter.remember(a + b, weight, 0 if isinstance(a, str) else max(meter.depth(a), meter.depth(b)))


def add(meter: Meter, a: object, b: object) -> object:
    if type(a) is type(b) and isinstance(a, str | list | tuple):
        return _concat(meter, a, b)
    _numbers(meter, "+", a, b, max(_bits(a), _bits(b)) + 1)
    return operator.add(a, b)


def sub(meter: Meter, a: object, b: object) -> object:
    _numbers(meter, "-", a, b, max(_bits(a), _bits(b)) + 1)
    return operator.sub(a, b)


def mul(meter: Meter, a: object, b: object) -> object:
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int):
            return _repeat(meter, seq, times)
    _numbers(meter, "*", a, b, _bits(a) + _bits(b))
    return operator.mul(a, b)


def truediv(meter: Meter, a: object, b: object) -> object:
    _numbers(meter, "/", a, b, max(_bits(a), _bits(b)))
    return operator.truediv(a, b)


def floordiv(meter: Meter, a: object, b: object) -> object:
    _numbers(meter, "//", a, b, max(_bits(a), _bits(b)))
    return operator.floordiv(a, b)


def mod(meter: Meter, a: object, b: object) -> object:
    if isinstance(a, str):
        raise ExpressionError("not_allowed", "'%' formatting of text is not allowed; use str() and +", construct="%")
    _numbers(meter, "%", a, b, max(_bits(a), _bits(b)))
    return operator.mod(a, b)


def power(meter: Meter, a: object, b: object) -> object:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        _numbers(meter, "**", a, b, a.bit_length() * b if b <= MAX_INT_BITS else MAX_INT_BITS + 1)
    else:
        _numbers(meter, "**", a, b, max(_bits(a), 1))
    result = operator.pow(a, b)
    if isinstance(result, complex):
        raise ExpressionError("failed", "the power has no real value", detail="complex")
    return result


def neg(meter: Meter, a: object) -> object:
    _numbers(meter, "-", a, 0, _bits(a))
    return operator.neg(cast(Any, a))  # the numbers check above admitted it


def pos(meter: Meter, a: object) -> object:
    _numbers(meter, "+", a, 0, _bits(a))
    return operator.pos(cast(Any, a))


def not_(meter: Meter, a: object) -> bool:
    return not a


def _compared(meter: Meter, a: Any, b: Any) -> None:
    """Comparing two values touches at most the smaller of them."""
    meter.step(min(meter.weigh(a), meter.weigh(b)))


def _ordered(func: Callable[[Any, Any], Any]) -> Callable[[Meter, Any, Any], Any]:
    def compare(meter: Meter, a: Any, b: Any) -> Any:
        _compared(meter, a, b)
        return func(a, b)

    compare.__doc__ = f"{func.__name__}, charged by the size of the smaller operand"
    return compare


def contains(meter: Meter, item: object, container: object) -> bool:
    """``item in container``: a text search, a hash lookup or one comparison per element."""
    if isinstance(container, str):
        if not isinstance(item, str):
            raise ExpressionError("failed", "only text can be searched in text", detail="in")
        meter.step(len(item) + len(container))
    elif isinstance(container, Mapping):
        meter.step(meter.weigh(item))
    elif isinstance(container, list | tuple):
        meter.step(meter.weigh(item) + meter.weigh(container))
    else:
        raise ExpressionError(
            "failed", f"'in' needs a text, list or record, not {type(container).__name__}", detail="in"
        )
    return item in container


def not_contains(meter: Meter, item: object, container: object) -> bool:
    return not contains(meter, item, container)


def is_(meter: Meter, a: object, b: object) -> bool:
    return a is b


def is_not(meter: Meter, a: object, b: object) -> bool:
    return a is not b


EQ, NE, LT, LE, GT, GE = (
    _ordered(f) for f in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge)
)


# -- builtins -----------------------------------------------------------------------------------
def _sized(value: Any, name: str) -> Any:
    if not isinstance(value, str | list | tuple | Mapping):
        raise ExpressionError(
            "failed", f"{name}() needs a text, list or record, not {type(value).__name__}", detail=name
        )
    return value


def _len(meter: Meter, value: Any) -> int:
    return len(_sized(value, "len"))


def _extreme(func: Callable[..., Any]) -> Callable[..., Any]:
    def pick(meter: Meter, *args: Any) -> Any:
        if len(args) == 1:
            meter.step(meter.weigh(_sized(args[0], func.__name__)))
            return func(args[0])
        meter.step(sum(meter.weigh(a) for a in args))
        return func(*args)

    pick.__doc__ = f"{func.__name__}(), charged by the weight of what it compares"
    return pick


def _abs(meter: Meter, value: Any) -> Any:
    _numbers(meter, "abs", value, 0, _bits(value))
    return abs(value)


def _round(meter: Meter, value: Any, digits: Any = 0) -> Any:
    if not _is_number(value) or not isinstance(digits, int):
        raise ExpressionError("failed", "round() needs a number and a whole number of digits", detail="round")
    if abs(digits) > MAX_INT_DIGITS:
        raise ExpressionError("too_large", f"round() to more than {MAX_INT_DIGITS} digits", limit=MAX_INT_DIGITS)
    meter.step(_bits(value) // 16 + MAX_INT_DIGITS // 64)
    return round(value, digits) if digits else round(value)


def _sum(meter: Meter, values: Any, start: Any = 0) -> Any:
    if not isinstance(values, list | tuple) or not set(map(type, values)) <= _NUMBERS or not _is_number(start):
        raise ExpressionError("failed", "sum() adds a list of numbers", detail="sum")
    meter.step(meter.weigh(values))
    result = sum(values, start)
    if isinstance(result, int):
        _check_int(meter, result.bit_length())
    return result


def _truth(func: Callable[[Any], bool]) -> Callable[[Meter, Any], bool]:
    def check(meter: Meter, values: Any) -> bool:
        meter.step(len(_sized(values, func.__name__)))
        return func(values)

    check.__doc__ = f"{func.__name__}(), charged by the number of elements"
    return check


def _sorted(meter: Meter, values: Any) -> list[Any]:
    _sized(values, "sorted")
    count = len(values)
    weight = meter.weigh(values)
    meter.step(2 * weight * (math.ceil(math.log2(count + 1)) + 1))
    if isinstance(values, str):
        weight, new_units = 1 + 2 * count, (1 + SORTED_CHAR_UNITS) * count + 1
    else:
        new_units = count + 1
    meter.admit("a sorted list", weight, new_units)
    depth = 1 if isinstance(values, str | Mapping) else meter.depth(values)
    return meter.remember(sorted(values), weight, depth)


def _str(meter: Meter, value: Any) -> str:
    if isinstance(value, str):
        return value
    weight = meter.weigh(value)
    plain_int = isinstance(value, int) and not isinstance(value, bool)
    length = weight + 1 if plain_int else REPR_FACTOR * weight
    meter.admit("a text made by str()", length, length)
    return str(value)


def _number_text(meter: Meter, text: str, name: str) -> None:
    if len(text) > MAX_NUMBER_TEXT:
        raise ExpressionError(
            "too_large", f"{name}() reads at most {MAX_NUMBER_TEXT} characters", limit=MAX_NUMBER_TEXT
        )
    meter.step(len(text))


def _int(meter: Meter, value: Any, *base: Any) -> int:
    if isinstance(value, str):
        _number_text(meter, value, "int")
        if base and not isinstance(base[0], int):
            raise ExpressionError("failed", "int() base must be a whole number", detail="int")
    elif base or not _is_number(value):
        raise ExpressionError("failed", "int() needs a number or a text", detail="int")
    result = int(value, *base)
    _check_int(meter, result.bit_length())
    return result


def _float(meter: Meter, value: Any) -> float:
    if isinstance(value, str):
        _number_text(meter, value, "float")
    elif not _is_number(value):
        raise ExpressionError("failed", "float() needs a number or a text", detail="float")
    return float(value)


def _bool(meter: Meter, value: Any) -> bool:
    return bool(value)


def _case(name: str) -> Callable[[Meter, Any], str]:
    def change(meter: Meter, value: Any) -> str:
        text = _str(meter, value)
        meter.admit(f"a text made by {name}()", CASE_FACTOR * len(text), CASE_FACTOR * len(text))
        return getattr(text, name)()

    change.__doc__ = f"{name}() of a value's text; may grow it {CASE_FACTOR}×"
    return change


def _time_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ExpressionError("failed", f"{name}() needs texts", detail=name)
    return value


def _add_duration(meter: Meter, instant: Any, duration: Any) -> str:
    return isotime.add_duration(_time_text(instant, "add_duration"), _time_text(duration, "add_duration"))


def _parse_instant(meter: Meter, text: Any) -> str:
    return isotime.parse_instant(_time_text(text, "parse_instant")).isoformat()


# Every function an expression may call, each bounded: ``func(meter, *args)``.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": _len,
    "min": _extreme(min),
    "max": _extreme(max),
    "abs": _abs,
    "round": _round,
    "sum": _sum,
    "any": _truth(any),
    "all": _truth(all),
    "sorted": _sorted,
    "str": _str,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "lower": _case("lower"),
    "upper": _case("upper"),
    "add_duration": _add_duration,
    "parse_instant": _parse_instant,
}
