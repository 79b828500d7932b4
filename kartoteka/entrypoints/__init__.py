"""Entry points: the CLI, the ASGI apps, the supervisor, the worker launcher and the staff simulator.

The one layer that imports everything (services, plumbing, events); nothing imports it back.
"""
