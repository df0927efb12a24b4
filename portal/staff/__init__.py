"""The fix side: sign-in and roles, permissions, triage (status, notes, reassign, duplicates),
the queue, moderation and announcements."""
