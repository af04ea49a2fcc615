"""The audit log: who did what to which record, and why. Written by moderation and by the
domains whose changes undo an admin's decision."""
