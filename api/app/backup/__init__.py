"""Owner-only backup API: the full export listing and the restore of one image with its id."""
