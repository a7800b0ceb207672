"""The web app: `handouts serve`."""
