#!/usr/bin/env python3
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vaxops.settings")
    # manage.py is the developer's tool in a checkout (migrations, translations): it may run on
    # the demo key. Deployments run `vaxops` and `gunicorn vaxops.wsgi`, which never default to it.
    os.environ.setdefault("VAXOPS_DEMO", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
