"""Alerts that reach people: channels, the outbox, the worker that sends it, and the digest."""
