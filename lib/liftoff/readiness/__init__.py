"""Readiness for the next stage: the governance checklist, the readiness rubric and the gate."""
