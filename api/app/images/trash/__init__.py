"""The trash: deleted images kept (row snapshot and objects) until restored or purged."""
