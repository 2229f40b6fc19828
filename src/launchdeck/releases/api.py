"""The releases part of the REST API: templates, releases, phases, milestones, gates, freezes and the timeline."""

from ninja import Router

router = Router(tags=["Releases"])
