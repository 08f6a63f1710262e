"""Custom actions for a Rasa assistant that reads ckg's session context."""
