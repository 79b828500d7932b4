"""The work projection: work.commands.v1 -> notes, profiles, requests, tasks and handovers."""
