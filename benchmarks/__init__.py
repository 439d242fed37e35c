"""Performance measurements, each taken side by side with its baseline in one run."""
