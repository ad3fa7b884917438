"""The service's own code: `main` holds the app, `settings` its configuration."""
