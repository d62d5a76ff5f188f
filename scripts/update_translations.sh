#!/usr/bin/env bash
# Regenerate the zh_Hans catalogue from the source and compile it.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py makemessages -l zh_Hans --no-location --no-obsolete \
  -i .venv -i .tools -i var -i node_modules -i bench -i docs -i scenarios -i vaxops/web/static
msgfmt -o vaxops/locale/zh_Hans/LC_MESSAGES/django.mo vaxops/locale/zh_Hans/LC_MESSAGES/django.po
