"""Interaction ids as a deployment derives them (keyed HMAC): the unit tests' fixed secret, or the
one the settings' master key gives the running stack."""

from __future__ import annotations

from events import ids, sealing
from kartoteka.keystore import master_key
from kartoteka.settings import Settings

SECRET = b"unit-test id secret, 32 bytes.."


def interaction_id(channel: str, external_id: str, secret: bytes = SECRET) -> str:
    return ids.interaction_id(channel, external_id, secret)


def deployed_id(settings: Settings, channel: str, external_id: str) -> str:
    """The id the stack configured by ``settings`` gives this interaction."""
    return ids.interaction_id(channel, external_id, sealing.id_secret(master_key(settings)))
