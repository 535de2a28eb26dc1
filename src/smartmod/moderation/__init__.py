"""Moderation: the model bundle, the Moderator facade, file input and output."""
from smartmod.moderation.moderator import Moderator

__all__ = ["Moderator"]
