#!/usr/bin/env bash
# Debian packages outside pip that Xiaoqi uses: Pango for WeasyPrint (the report's PDF) and HarfBuzz's
# subsetter (about 6x faster PDFs); with --test also pdftotext and Chromium, which the report tests use.
# Installs only what is missing; without apt-get (or the right to use it) it says what to install.
set -u
want=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
[ "${1:-}" = "--test" ] && want+=(poppler-utils chromium)
missing=()
for package in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo -n"
install() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
if command -v apt-get >/dev/null && { install || { $sudo apt-get update -q >/dev/null && install; }; }; then
  echo "installed: ${missing[*]}"
else
  echo "please install these Debian packages: ${missing[*]}" >&2
fi
