// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* TEMPORARY until recording lands (issue 5). */
#include <errno.h>
#include <stdio.h>
#include "record.h"
int rec_open(struct rec_writer **w, const char *path, const struct pt_meta *meta) { (void)w; (void)path; (void)meta; return -ENOSYS; }
int rec_write(struct rec_writer *w, const void *data, size_t len, uint64_t now_ns) { (void)w; (void)data; (void)len; (void)now_ns; return -ENOSYS; }
int rec_tick(struct rec_writer *w, uint64_t now_ns) { (void)w; (void)now_ns; return 0; }
int rec_close(struct rec_writer *w) { (void)w; return 0; }
int rec_replay(const char *path, const struct rec_handler *h, struct rec_info *info, char *err, size_t errlen)
{ (void)path; (void)h; (void)info; snprintf(err, errlen, "not built yet"); return -ENOSYS; }
int rec_replay_mem(const uint8_t *data, size_t len, const struct rec_handler *h, struct rec_info *info, char *err, size_t errlen)
{ (void)data; (void)len; (void)h; (void)info; snprintf(err, errlen, "not built yet"); return -ENOSYS; }
