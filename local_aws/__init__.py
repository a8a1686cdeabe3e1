"""The local AWS endpoint: moto in server mode with image-delivery's compatibility fixes.

`python -m local_aws start` runs it in the background (pid file, log file, readiness wait);
`python -m local_aws stop` ends it. See `local_aws/fixes/` for what is fixed and why.
"""
