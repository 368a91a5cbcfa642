/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#ifndef MPTRACE_COREBTF_H
#define MPTRACE_COREBTF_H

struct btf;

/*
 * Writes to fd, as raw BTF, the kernel's types that the BPF object's CO-RE
 * relocations can match (those named as a type of `local`, the object's
 * BTF, and what they embed), for bpf_object_open_opts.btf_custom_path.
 * Returns 0 or -errno.
 */
int corebtf_write(const struct btf *local, int fd);

#endif
