"""What the reports package announces. Who reacts is decided in `portal.reactions`."""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Issue, Update


@dataclass(frozen=True)
class IssueReported:
    """A new issue was written (with its first history row and its portal membership)."""

    issue: Issue


@dataclass(frozen=True)
class IssueReassigned:
    """Staff sent an issue to another body (`issue.body_id` is the new one); that body gets
    it as a new report (mailed by triage itself; its Open311 endpoint, if any, reacts)."""

    issue: Issue


@dataclass(frozen=True)
class VoteCast:
    """A visitor's "I want this fixed too" was counted (the first time only)."""

    issue: Issue
    voter_key: str


@dataclass(frozen=True)
class StatusChanged:
    """An issue's status changed (`update` is its history row); the reporter's own channel
    reacts (mail is still sent by `staff.triage`; texts by `portal.sms.notices`)."""

    issue: Issue
    update: Update
