"""Moving libraries in and out over the HTTP API: `reactbin import` and `reactbin export`.

Nothing here touches the database or the bucket directly: the commands talk to a
running server, so they fill or back up a remote instance the same way as a local one.
"""
