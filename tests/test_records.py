"""ocpp_probe.records: a record behaves as the frozen dataclass it replaces."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import field
from pathlib import Path

import pytest

import ocpp_probe
from ocpp_probe.records import FrozenRecordError, as_dict, record, replace

BANNED = {"replace", "asdict", "astuple"}


@record
class Point:
    """A test record."""

    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="", repr=False)


@dataclasses.dataclass(frozen=True)
class PointTwin:
    """The frozen dataclass a Point stands for."""

    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="", repr=False)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1,), {}), ((1, 2), {}), ((), {"x": 3, "secret": "s"}), ((4,), {"tags": ["a"], "y": 5})],
)
def test_constructs_as_the_dataclass_does(args: tuple[int, ...], kwargs: dict[str, object]) -> None:
    point = Point(*args, **kwargs)  # type: ignore[arg-type]
    twin = PointTwin(*args, **kwargs)  # type: ignore[arg-type]
    assert (point.x, point.y, point.tags, point.secret) == (twin.x, twin.y, twin.tags, twin.secret)
    assert repr(point) == repr(twin).replace("PointTwin", "Point")


def test_a_default_factory_runs_for_each_record() -> None:
    first, second = Point(1), Point(2)
    assert first.tags == [] and first.tags is not second.tags


def test_repr_leaves_out_hidden_fields() -> None:
    assert repr(Point(1, 2, ["t"], secret="hunter2")) == "Point(x=1, y=2, tags=['t'])"


def test_a_record_is_frozen() -> None:
    point = Point(1)
    with pytest.raises(FrozenRecordError, match="a Point is frozen: cannot assign to 'x'"):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenRecordError, match="a Point is frozen: cannot delete 'y'"):
        del point.y
    with pytest.raises(AttributeError, match="a Point is frozen: cannot assign to 'z'"):
        point.z = 1  # type: ignore[attr-defined]
    assert (point.x, point.y) == (1, 0)


@record
class Pair:
    """A hashable test record."""

    a: int
    b: str = ""


def test_equality_and_hash_follow_the_fields_and_the_class() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != PointTwin(1)  # type: ignore[comparison-overlap]
    assert Point(1) != (1, 0, [], "")  # type: ignore[comparison-overlap]
    assert hash(Pair(1, "x")) == hash(Pair(1, "x"))
    assert len({Pair(5, "a"), Pair(5, "a"), Pair(5, "b")}) == 2
    with pytest.raises(TypeError, match="unhashable type: 'list'"):  # as with the dataclass
        hash(Point(1))
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        hash(PointTwin(1))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, r"Point\(\) missing required argument 'x'"),
        ((1, 2, [], "", 5), {}, r"Point\(\) takes 4 arguments but 5 were given"),
        ((1,), {"x": 2}, r"Point\(\) got multiple values for argument 'x'"),
        ((1,), {"z": 2}, r"Point\(\) got an unexpected keyword argument 'z'"),
    ],
)
def test_wrong_arguments_are_type_errors(args: tuple[object, ...], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[arg-type]


def test_the_class_keeps_its_plain_defaults_and_drops_field_objects() -> None:
    assert Point.y == 0
    assert Point.secret == ""
    assert not hasattr(Point, "tags")
    assert not hasattr(Point, "x")
    assert Point.__match_args__ == ("x", "y", "tags", "secret")


def test_methods_written_by_the_class_are_kept() -> None:
    @record
    class Named:
        """A record with its own repr."""

        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

    assert repr(Named("a")) == "<a>"
    assert Named("a") == Named("a")


def test_a_subclass_adds_fields_after_its_base() -> None:
    @record
    class Base:
        """A base record."""

        a: int

    @record
    class Child(Base):
        """A record that extends it."""

        b: str = "b"

    child = Child(1)
    assert (child.a, child.b) == (1, "b")
    assert repr(child) == "test_a_subclass_adds_fields_after_its_base.<locals>.Child(a=1, b='b')"
    assert Child(1) != Base(1)


def test_class_variables_are_not_fields() -> None:
    from typing import ClassVar

    @record
    class Counted:
        """A record with a class variable."""

        limit: ClassVar[int] = 3
        value: int

    assert Counted(1).value == 1
    assert Counted.__match_args__ == ("value",)


def test_declaration_mistakes_are_refused_as_dataclasses_refuses_them() -> None:
    with pytest.raises(ValueError, match=r"Bad\.items: a mutable default needs default_factory"):

        @record
        class Bad:
            """A record with a shared mutable default."""

            items: list[int] = []  # noqa: RUF012

    with pytest.raises(TypeError, match="Late: field 'b' without a default follows one with"):

        @record
        class Late:
            """A required field after an optional one."""

            a: int = 0
            b: int  # type: ignore[misc]


@record
class Checked:
    """A record that validates itself."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low above high")


def test_post_init_runs_after_the_fields_are_set() -> None:
    assert (Checked(1, 2).low, Checked(1, 2).high) == (1, 2)
    with pytest.raises(ValueError, match="low above high"):
        Checked(3, 2)


def test_replace_makes_a_validated_copy() -> None:
    first = Point(1, 2, ["a"], "s")
    second = replace(first, y=5)
    assert (second.x, second.y, second.tags, second.secret) == (1, 5, ["a"], "s")
    assert first.y == 2
    with pytest.raises(ValueError, match="low above high"):
        replace(Checked(1, 2), low=9)
    with pytest.raises(TypeError, match="Point has no field 'z'"):
        replace(first, z=1)


def test_replace_and_as_dict_take_dataclasses_too() -> None:
    twin = PointTwin(1, 2, ["a"], "s")
    assert replace(twin, y=7) == PointTwin(1, 7, ["a"], "s")
    assert as_dict(twin) == dataclasses.asdict(twin)


def test_as_dict_converts_what_the_record_holds() -> None:
    @record
    class Outer:
        """A record holding records."""

        point: Point
        pairs: tuple[Pair, ...]
        by_name: dict[str, PointTwin]

    outer = Outer(Point(1, tags=["t"]), (Pair(2, "b"),), {"k": PointTwin(3)})
    assert as_dict(outer) == {
        "point": {"x": 1, "y": 0, "tags": ["t"], "secret": ""},
        "pairs": ({"a": 2, "b": "b"},),
        "by_name": {"k": {"x": 3, "y": 0, "tags": [], "secret": ""}},
    }
    assert as_dict(Point(1)) == dataclasses.asdict(PointTwin(1))


def test_the_package_never_calls_dataclasses_replace_or_asdict() -> None:
    """Both refuse a record at run time and mypy cannot see it (records.py): the
    package uses records.replace and records.as_dict, which take both kinds."""
    package = Path(ocpp_probe.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "dataclasses":
                offenders += [f"{path.name}: {a.name}" for a in node.names if a.name in BANNED]
            elif isinstance(node, ast.Attribute) and node.attr in BANNED:
                if isinstance(node.value, ast.Name) and node.value.id == "dataclasses":
                    if path.name != "records.py":
                        offenders.append(f"{path.name}: dataclasses.{node.attr}")
    assert offenders == []
