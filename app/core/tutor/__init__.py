"""The tutor's policy: its actions and the snapshot of what a request is about."""
