#!/bin/sh
# Refresh the message catalogues after changing interface strings:
#   scripts/i18n_extract.sh   then translate the new entries in src/rasid/translations/ar/LC_MESSAGES/messages.po
set -eu
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
$PYBABEL extract -F babel.cfg -o src/rasid/translations/messages.pot --no-location --sort-output \
  -k _ -k N_ -k gettext -k ngettext:1,2 \
  -k RasidError -k ValidationFailed -k NotFound -k Conflict -k Forbidden -k TooManyAttempts \
  -k AuthenticationRequired -k ConfigError \
  --project=Rasid --msgid-bugs-address=security@rasid.invalid src/rasid
for lang in ar en; do
  if [ -f src/rasid/translations/$lang/LC_MESSAGES/messages.po ]; then
    $PYBABEL update -i src/rasid/translations/messages.pot -d src/rasid/translations -l $lang --no-fuzzy-matching --ignore-obsolete
  else
    $PYBABEL init -i src/rasid/translations/messages.pot -d src/rasid/translations -l $lang
  fi
done
