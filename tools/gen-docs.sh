#!/bin/sh
# Regenerate what comes from the option table: marketing.conf and the option
# list in man/marketing.conf.5. Run after changing src/config.c; the test
# tests/integration/cli.sh fails until you do.
set -eu
bin=${1:-build/marketing}
"$bin" config sample >marketing.conf
"$bin" config man >man/.opts.tmp
awk -v opts=man/.opts.tmp '
    /^\.\\" BEGIN OPTIONS/ { print; while ((getline l < opts) > 0) print l; skip = 1; next }
    /^\.\\" END OPTIONS/ { skip = 0 }
    !skip' man/marketing.conf.5 >man/.conf5.tmp
mv man/.conf5.tmp man/marketing.conf.5
"$bin" config keys >man/.keys.tmp
awk -v keys=man/.keys.tmp '
    /^\.\\" BEGIN KEYS/ { print; while ((getline l < keys) > 0) print l; skip = 1; next }
    /^\.\\" END KEYS/ { skip = 0 }
    !skip' man/marketing.1 >man/.m1.tmp
mv man/.m1.tmp man/marketing.1
rm -f man/.opts.tmp man/.keys.tmp
