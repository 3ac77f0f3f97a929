"""`computed_once`: computed on first read, kept on the instance, never recomputed."""

from __future__ import annotations

import pytest

from consensus.memo import computed_once


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    @computed_once
    def value(self) -> int:
        """The number of computations so far."""
        self.calls += 1
        return self.calls * 10


def test_computed_once_computes_on_first_read_only_and_per_instance() -> None:
    first, second = _Counter(), _Counter()
    assert (first.value, first.value, first.value) == (10, 10, 10)
    assert first.calls == 1
    assert second.calls == 0
    assert second.value == 10
    assert second.calls == 1


def test_computed_once_on_the_class_is_the_descriptor_with_its_doc() -> None:
    assert isinstance(_Counter.value, computed_once)
    assert _Counter.value.__doc__ == "The number of computations so far."


def test_computed_once_lets_an_exception_through_and_retries_next_read() -> None:
    class Flaky:
        attempts = 0

        @computed_once
        def value(self) -> int:
            Flaky.attempts += 1
            if Flaky.attempts == 1:
                raise ValueError("first read fails")
            return 7

    flaky = Flaky()
    with pytest.raises(ValueError, match="first read fails"):
        _ = flaky.value
    assert flaky.value == 7
    assert Flaky.attempts == 2
