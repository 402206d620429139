"""Where Bleep overrides Django, Channels, daphne, asgiref or Python's collector, each for a
measured reason; README.md here names each one and the upstream version it was checked on.

Beside the layers: the apps may import it, it imports none of them.
"""
