"""Every table of the project, registered on one metadata. Each module is one group of tables."""
