"""Answers a citizen uploads from a question-and-answer site: experience evidence."""
