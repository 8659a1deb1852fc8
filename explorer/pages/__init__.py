"""Self-contained HTML pages (static and living), their JavaScript, and the HTML the app shares."""
