"""What residents follow and earn: watch areas with their notices and digests, civic points and
badges, Atom feeds."""
