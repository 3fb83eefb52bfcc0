"""Feedback, concerns, stakeholders, governance and readiness."""
