"""Planning engines: the site-flow simulator and the vaccine allocation optimiser.

Pure Python: nothing under this package imports Django, so the engines run from their
commands, from the web pages and from tests alike.
"""
