"""Notifications to members and administrators."""
