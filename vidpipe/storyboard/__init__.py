"""The storyboard renderer: storyboard stills, animatics and sheets drawn from a prompt, offline.

It is not a provider: vidpipe.providers.preview_backend adapts it to the runner's backend protocol.
plan reads the prompt into panels, scene paints the setting, figures draws and moves the cast,
art and layout own the strips and their lettering, animatic films it all, sheet tiles panels.
"""
