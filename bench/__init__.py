"""The benchmark and fault-tolerance harness (`make bench`): seeding a large data set, serving
the app with gunicorn, loading it from a second process, fault scenarios, and RESULTS.md."""
