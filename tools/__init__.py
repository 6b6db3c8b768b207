"""Developer tools run from the repository (``make screens``)."""
