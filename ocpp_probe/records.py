"""Immutable records whose classes cost almost nothing to define.

`dataclasses.dataclass(frozen=True)` writes and compiles Python source for each
method of each class while its module is imported: 0.25 to 0.9 ms a class here,
about 10 ms for the 25 classes one check imported, a sixth of the probe's
start-up (measured; docs/binaries.md). `record` gives a class the same
behaviour from functions made once, in this module, so that defining a class
only reads its annotations:

- construction by position or keyword, with defaults and
  ``dataclasses.field(default=..., default_factory=..., repr=...)``;
- no assignment or deletion afterwards (`FrozenRecordError`, an AttributeError,
  as dataclasses' FrozenInstanceError is);
- equality with a record of the same class, field by field; a hash from the
  fields; a repr that leaves out ``repr=False`` fields (passwords, tokens);
- ``__post_init__``, when the class has one, after the fields are set;
- `replace` and `as_dict` here for `dataclasses.replace` and `dataclasses.asdict`.

mypy sees a frozen dataclass (PEP 681's dataclass_transform). It does not know that
`dataclasses.replace` and `dataclasses.asdict` refuse a record at run time, so the
package uses the two functions here, which take records and dataclasses alike, and
never those (tests/test_records.py checks the imports).
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, Field, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        return lambda decorated: decorated


T = TypeVar("T")

_MUTABLE_DEFAULTS = (list, dict, set)


class FrozenRecordError(AttributeError):
    """An assignment to, or deletion of, a record's field."""


class _Spec:
    """One field: its name, default or default factory, and whether repr shows it."""

    __slots__ = ("default", "factory", "name", "shown")

    def __init__(self, name: str, default: Any, factory: Any, shown: bool) -> None:
        self.name = name
        self.default = default
        self.factory = factory
        self.shown = shown


def _specs(cls: type) -> tuple[_Spec, ...]:
    # The nearest record base's fields (the class has none of its own yet).
    inherited: tuple[_Spec, ...] = getattr(cls, "__record_fields__", ())
    specs = {spec.name: spec for spec in inherited}
    # The class's own annotations (strings, under `from __future__ import annotations`):
    # inspect.get_annotations would import inspect at every start, and is not in 3.9.
    own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, annotation in own.items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            spec = _Spec(name, value.default, value.default_factory, bool(value.repr))
            if value.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
        else:
            if isinstance(value, _MUTABLE_DEFAULTS):
                raise ValueError(f"{cls.__name__}.{name}: a mutable default needs default_factory")
            spec = _Spec(name, value, MISSING, True)
        specs.pop(name, None)
        specs[name] = spec
    required_after_default = False
    for spec in specs.values():
        has_default = spec.default is not MISSING or spec.factory is not MISSING
        if not has_default and required_after_default:
            raise TypeError(f"{cls.__name__}: field {spec.name!r} without a default follows one with")
        required_after_default = required_after_default or has_default
    return tuple(specs.values())


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    specs: tuple[_Spec, ...] = cls.__record_fields__
    if len(args) > len(specs):
        raise TypeError(f"{cls.__name__}() takes {len(specs)} arguments but {len(args)} were given")
    for index, spec in enumerate(specs):
        name = spec.name
        if index < len(args):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            value = args[index]
        elif name in kwargs:
            value = kwargs.pop(name)
        elif spec.factory is not MISSING:
            value = spec.factory()
        elif spec.default is not MISSING:
            value = spec.default
        else:
            raise TypeError(f"{cls.__name__}() missing required argument {name!r}")
        object.__setattr__(self, name, value)
    if kwargs:
        raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _values(self: object) -> tuple[object, ...]:
    specs: tuple[_Spec, ...] = type(self).__record_fields__  # type: ignore[attr-defined]
    return tuple(getattr(self, spec.name) for spec in specs)


def _eq(self: object, other: object) -> object:  # bool, or NotImplemented
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    cls = type(self)
    shown = ", ".join(
        f"{spec.name}={getattr(self, spec.name)!r}" for spec in cls.__record_fields__ if spec.shown
    )
    return f"{cls.__qualname__}({shown})"


def _setattr(self: Any, name: str, value: object) -> None:
    raise FrozenRecordError(f"a {type(self).__name__} is frozen: cannot assign to {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"a {type(self).__name__} is frozen: cannot delete {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` an immutable record of its annotated fields (see the module's text)."""
    specs = _specs(cls)
    methods: dict[str, Any] = {
        "__record_fields__": specs,
        "__match_args__": tuple(spec.name for spec in specs),
        "__init__": _init,
        "__eq__": _eq,
        "__hash__": _hash,
        "__repr__": _repr,
        "__setattr__": _setattr,
        "__delattr__": _delattr,
    }
    for name, method in methods.items():
        if name in ("__init__", "__eq__", "__hash__", "__repr__") and name in cls.__dict__:
            continue  # the class wrote its own, as dataclasses would keep it
        setattr(cls, name, method)
    return cls


def replace(obj: T, /, **changes: object) -> T:
    """A copy of the record (or dataclass) ``obj`` with ``changes``, as dataclasses.replace."""
    if dataclasses.is_dataclass(obj):
        return cast(T, dataclasses.replace(cast(Any, obj), **changes))
    specs: tuple[_Spec, ...] = type(obj).__record_fields__  # type: ignore[attr-defined]
    values = {spec.name: getattr(obj, spec.name) for spec in specs}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(obj)(**values)


def as_dict(obj: object) -> dict[str, Any]:
    """The fields of a record (or dataclass) as a dict; records, dataclasses, lists,
    tuples and dicts in it are converted too, other values are not copied."""
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(cast(Any, obj))
    specs: tuple[_Spec, ...] = type(obj).__record_fields__  # type: ignore[attr-defined]
    return {spec.name: _plain(getattr(obj, spec.name)) for spec in specs}


def _plain(value: object) -> Any:
    if hasattr(type(value), "__record_fields__") or dataclasses.is_dataclass(value):
        return as_dict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return value
