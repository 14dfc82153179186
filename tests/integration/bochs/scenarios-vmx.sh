#!/usr/bin/env bash
# make test: the integration scenarios on Bochs with Intel VMX + EPT
# (corei7_skylake_x), booted through GRUB and Multiboot2 (TAP).
exec "$(dirname "$0")/../run-scenarios-bochs.sh" --cpu corei7_skylake_x "$@"
