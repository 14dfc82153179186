/* Canary values the monitor plants in its own memory (vmm/mm/mm.h uses the
 * same numbers as MON_CANARY_A/B).  The canary_scan guest searches all of its
 * RAM for them: finding one means monitor memory leaked into a guest.
 * The monitor must store them 8-byte aligned (the scan reads aligned words).
 * A scanner must never keep these constants in its own memory as they are
 * (it would find itself): see tests/guest/canary_scan.c. */
#ifndef TV_GUEST_CANARY_H
#define TV_GUEST_CANARY_H

#define TV_CANARY_A 0x54565f43414e4152ull /* "RANAC_VT" little-endian: "TV_CANAR" */
#define TV_CANARY_B 0x8badf00dcafe1234ull

#endif
