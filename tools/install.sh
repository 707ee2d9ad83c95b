#!/usr/bin/env bash
# One-step set-up on a fresh Debian machine: Debian data + a venv with the package and its dev tools.
# Offline-safe: everything comes from PyPI / Debian mirrors; no model weights are downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dataset-fashion-mnist
fi
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
# torch 2.14.1 + torchvision 0.29.1: the pair timm (dev extra) needs; pip takes both from this machine's disk.
.venv/bin/pip install -q torch==2.14.1 torchvision==0.29.1
.venv/bin/pip install -q -e ".[dev]"
echo "installed: $(.venv/bin/python -c 'import torch, diffusers, nbdev; print("torch", torch.__version__, "diffusers", diffusers.__version__, "nbdev", nbdev.__version__)')"
