"""Undo log of one reconciliation: every step that changed the system
records how to take it back, so a change that fails half way leaves the
system as it was."""

from typing import Any, Callable, List, Optional, Sequence, Tuple

from ...errors import RouterError
from .cmd import Host


class Journal:
    """Steps done on the system, newest last, each with its undo.

    Attributes:
        host: runs the commands.
        steps: (description, undo) pairs; undo is an argv list or a callable.
        on_change: called after every step (the areas' caches of system state
            are then stale).
    """

    def __init__(self, host: Host, on_change: Optional[Callable[[], None]] = None):
        self.host = host
        self.steps: List[Tuple[str, Any]] = []
        self.on_change = on_change or (lambda: None)

    def run(self, argv: Sequence[str], undo: Optional[Sequence[str]] = None, input: Optional[str] = None,
            undo_input: Optional[str] = None) -> str:
        """Run a command that changes the system; ``undo`` takes it back."""
        try:
            out = self.host.run(argv, input=input)
        finally:
            self.on_change()
        if undo is not None:
            self.steps.append((" ".join(map(str, argv)), (list(undo), undo_input)))
        return out

    def call(self, what: str, do: Callable[[], Any], undo: Optional[Callable[[], Any]] = None) -> Any:
        """Do something that is not a command (write a file, talk to a service)."""
        try:
            out = do()
        finally:
            self.on_change()
        if undo is not None:
            self.steps.append((what, undo))
        return out

    def undo_with(self, what: str, undo: Callable[[], Any]) -> None:
        """Record an undo for something already done."""
        self.steps.append((what, undo))

    def rollback(self) -> List[str]:
        """Undo every step, newest first; returns what could not be undone."""
        problems = []
        while self.steps:
            what, undo = self.steps.pop()
            try:
                if callable(undo):
                    undo()
                else:
                    argv, inp = undo
                    self.host.run(argv, input=inp)
            except (RouterError, OSError) as exc:
                problems.append("undo of `%s`: %s" % (what, getattr(exc, "message", exc)))
            finally:
                self.on_change()
        return problems
