// Refinery: implementation in progress.
