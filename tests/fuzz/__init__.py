"""The long fuzz run (not part of the normal test run): see README.md."""
