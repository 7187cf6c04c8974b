"""The review room: a local web app to watch, judge and compare clips (`vidpipe review serve`)."""
