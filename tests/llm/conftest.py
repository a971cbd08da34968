"""The LLM tests talk to servers on 127.0.0.1 only: a guard fails any test reaching further."""

from __future__ import annotations

from models.fixtures import no_network_beyond_loopback

__all__ = ["no_network_beyond_loopback"]
