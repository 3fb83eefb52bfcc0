"""Roles, accounts, sign-in and the audit log."""
