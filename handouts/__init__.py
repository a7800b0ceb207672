"""Handouts: printable patient handouts from Markdown, Jinja2 templates and CSS."""
