/* Test builds only: the TESTMEM volume (option disk_memvol=1); see
 * disk_memvol.c. */
#ifndef VMM_TESTING_DISK_MEMVOL_H
#define VMM_TESTING_DISK_MEMVOL_H

void disk_memvol_start(const char *options);

#endif
