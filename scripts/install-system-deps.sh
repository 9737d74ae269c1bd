#!/usr/bin/env bash
# Install the Debian packages the pipeline runs: Tesseract with its Swedish
# model, Poppler's pdftoppm, the Swedish Hunspell dictionary (the lexicon),
# Swedish running text the context model is counted from (LibreOffice and
# GNOME help, the book "Copyright finns inte"), a font for rendering the
# sample corpus, and Chromium, whose headless mode the tests render the review
# report in. Does nothing when all are present.
set -euo pipefail

packages=(
    tesseract-ocr tesseract-ocr-swe tesseract-ocr-eng poppler-utils fonts-dejavu-core
    hunspell-sv libreoffice-help-sv cfi-sv gnome-user-docs
    chromium
)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "install-system-deps: not a Debian system; install by hand: ${missing[*]}" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-system-deps: run as root to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "install-system-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
