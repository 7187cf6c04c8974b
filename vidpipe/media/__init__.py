"""Media: everything that touches ffmpeg or decoded frames goes through this package."""
