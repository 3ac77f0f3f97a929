"""`computed_once`: a per-object cached attribute, without functools.cached_property's lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

_Owner = TypeVar("_Owner")
_Value = TypeVar("_Value")


class computed_once(Generic[_Owner, _Value]):  # noqa: N801 - a decorator, named like cached_property
    """Compute the attribute on first read and keep it in the instance's `__dict__`.

    Python 3.11's `functools.cached_property` takes a lock on every first read; a `Patient` lives
    for one request in one thread, so the lock is pure cost (about 40 first reads per request).
    Later reads find the value in `__dict__` and never reach this (non-data) descriptor.
    """

    def __init__(self, func: Callable[[_Owner], _Value]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(
        self, instance: None, owner: type[Any] | None = None
    ) -> computed_once[_Owner, _Value]: ...

    @overload
    def __get__(self, instance: _Owner, owner: type[Any] | None = None) -> _Value: ...

    def __get__(
        self, instance: _Owner | None, owner: type[Any] | None = None
    ) -> _Value | computed_once[_Owner, _Value]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value
