#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bleep.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from bleep.config import ConfigurationError

    try:
        settings.INSTALLED_APPS  # noqa: B018 -- loads the settings module now
    except ConfigurationError as error:
        # One line saying what to set, not a traceback.
        sys.exit(f"bleep: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
