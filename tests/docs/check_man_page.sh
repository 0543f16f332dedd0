#!/bin/sh
# check_man_page.sh PAGE: renders PAGE as man(1) would for an 80-column terminal, with groff's warnings on, and fails
# if anything at all is printed on standard error. Exit 77 (skipped) when man(1) is not installed.
page=$1
if ! command -v man >/dev/null 2>&1; then
    echo "man is not installed (apt-get install man-db groff-base): not checked"
    exit 77
fi
errors=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
status=$?
if [ -n "$errors" ]; then
    printf '%s\n' "$errors" >&2
    echo "$page: man --warnings printed the above" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "$page: man exited with status $status" >&2
    exit 1
fi
echo "$page: renders without warnings"
