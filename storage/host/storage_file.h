/* Hosted storage seam: names are POSIX paths, memory is malloc. */
#ifndef TV_STORAGE_FILE_H
#define TV_STORAGE_FILE_H

#include "../storage.h"

/* Fills *st with the hosted file seam.  flushes=false skips fsync. */
void tv_storage_file_init(tv_storage_t *st, bool flushes);

#endif
