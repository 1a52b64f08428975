"""Jinja2 templates of the HTML report, installed with the package."""
