"""A Tenor-v2-compatible API: GIF pickers built for Tenor or Klipy can use a reactbin library."""
