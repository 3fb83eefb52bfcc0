"""The steering pack, snapshots, meeting decisions and action items, exports."""
