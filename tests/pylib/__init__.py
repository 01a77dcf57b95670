"""Helpers the tests share: frame builders, paths, inotify."""
