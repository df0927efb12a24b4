"""Bringing issues in: importing historical records and seeding the demo."""
