"""The model manager dialog, the first-run welcome, and the jobs (downloads, checks) they
share."""
