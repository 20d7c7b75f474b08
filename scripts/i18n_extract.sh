#!/bin/sh
# Refresh the message catalogues after changing interface strings (`make i18n`), then translate
# the new entries in src/rasid/translations/ar/LC_MESSAGES/messages.po.
#   POT=path       write the template elsewhere
#   NO_UPDATE=1    only extract (the test suite uses this to check the catalogue is current)
set -eu
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
POT=${POT:-src/rasid/translations/messages.pot}
$PYBABEL -q extract -F babel.cfg -o "$POT" --no-location --sort-output \
  -k _ -k N_ -k gettext -k ngettext:1,2 \
  -k RasidError -k ValidationFailed -k NotFound -k Conflict -k Forbidden -k TooManyAttempts \
  -k AuthenticationRequired \
  --project=Rasid src/rasid
[ "${NO_UPDATE:-0}" = "1" ] && exit 0
for lang in ar en; do
  if [ -f src/rasid/translations/$lang/LC_MESSAGES/messages.po ]; then
    $PYBABEL -q update -i "$POT" -d src/rasid/translations -l $lang --no-fuzzy-matching --ignore-obsolete
  else
    $PYBABEL -q init -i "$POT" -d src/rasid/translations -l $lang
  fi
done
