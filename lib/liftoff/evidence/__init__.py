"""Iterations, criteria, decisions, metrics, capacity, runway, alerts, the portfolio."""
