// Placeholder replaced by the syntax front end.
