"""Liftoff: the decision dashboard for AI initiatives moving from proof of concept to production."""

__version__ = "0.1.0"
