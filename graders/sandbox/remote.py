"""Student code as the grader calls it: :class:`RemoteModule` proxies, so a test reads like
``pure.determinant(A)`` while the call crosses into the confined worker, and
:class:`Call`/:class:`Answer` for many questions in one round trip (:func:`ask_all`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from graders.sandbox.call_errors import StudentCodeError


@dataclass(frozen=True)
class Call:
    """One question of a batch (:meth:`Sandbox.map`): ``target`` ("module:function") with
    arguments sent by value; ``label`` names it in reasons (default: the function)."""

    target: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None


class Answer:
    """The answer to one :class:`Call`: its value, or the error :meth:`Sandbox.call`
    would have raised, raised when read."""

    def __init__(
        self,
        value: Any = None,
        error: StudentCodeError | None = None,
        on_read: Callable[[], None] | None = None,
    ):
        self.value = value
        self.error = error
        self._on_read = on_read

    @property
    def ok(self) -> bool:
        return self.error is None

    def get(self) -> Any:
        """The value, or raise the call's error (a crash or hang counts in its criterion
        now, as it would have counted when called)."""
        if self.error is None:
            return self.value
        if self._on_read is not None:
            on_read, self._on_read = self._on_read, None
            on_read()
        raise self.error


class Asks(Protocol):
    """What the proxies need of a sandbox: :meth:`graders.sandbox.sandbox.Sandbox.call` and
    :meth:`~graders.sandbox.sandbox.Sandbox.map`."""

    call: Callable[..., Any]
    map: Callable[..., list[Answer]]


class RemoteFunction:
    def __init__(self, sandbox: Asks, target: str):
        self._sandbox = sandbox
        self._target = target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sandbox.call(self._target, args, kwargs)

    def ask(self, *args: Any, **kwargs: Any) -> Call:
        """This function with these arguments, as a question for :meth:`Sandbox.map`."""
        return Call(self._target, args, kwargs)

    def with_timeout(self, seconds: float):
        """The same function with its own per-call time limit."""
        return lambda *args, **kwargs: self._sandbox.call(self._target, args, kwargs, seconds)

    def with_budget(self, seconds: float):
        """The same function under a grading budget ("N seconds on the promised cores"),
        counted in CPU time (see :meth:`Sandbox.call`)."""
        return lambda *args, **kwargs: self._sandbox.call(
            self._target, args, kwargs, budget_s=seconds
        )


class RemoteModule:
    """Attribute access yields callables that run the student's function in the worker."""

    def __init__(self, sandbox: Asks, name: str):
        self._sandbox = sandbox
        self._name = name

    def __getattr__(self, function: str) -> RemoteFunction:
        if function.startswith("_"):
            raise AttributeError(function)
        return RemoteFunction(self._sandbox, f"{self._name}:{function}")


def ask_all(
    module: RemoteModule, calls: Sequence[Call], *, until_error: bool = True
) -> list[Answer]:
    """The answers to ``calls`` (made with ``module.function.ask(...)``) from ``module``'s
    sandbox, in one batch (see :meth:`Sandbox.map`)."""
    return module._sandbox.map(calls, until_error=until_error)
