"""What happens to a page: published by `oncall.services`, read by `oncall.subscribers`."""

from dataclasses import dataclass
from typing import Any

from itsm.events import Event


@dataclass(frozen=True, kw_only=True)
class PageEvent(Event):
    page: Any  # oncall.models.Page, as saved by the change


@dataclass(frozen=True, kw_only=True)
class PageStarted(PageEvent):
    pass


@dataclass(frozen=True)
class StepFired:
    """One page's step ran: `notified` are the people told, `note` says why nobody was."""

    page: Any
    notified: tuple = ()
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class PageStepsFired(Event):
    """Steps ran, one per page: a batch, as the tick runs them."""

    fired: tuple[StepFired, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PageEnded(PageEvent):
    """Acknowledged, resolved with its incident, or exhausted (see `page.state`)."""

    note: str = ""
