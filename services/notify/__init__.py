"""Notify: assignments, reminders and escalations delivered once over email, SMS
gateways, chat and webhooks, naming no officer and no incident detail."""
