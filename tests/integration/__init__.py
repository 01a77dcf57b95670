"""Integration tests: the CLI, real clients in namespaces, set-up, install, soak and the benchmark."""
