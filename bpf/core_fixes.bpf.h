/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * CO-RE shims: one commented block per kernel difference mptrace meets.
 */
#ifndef MPTRACE_CORE_FIXES_BPF_H
#define MPTRACE_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - bpf_core_field_offset(type, member)))
#endif

/* Keep the compiler from merging a clamp into an unclamped copy: the
 * verifier must see the bound on the register it checks. */
#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

/*
 * sched_process_exit gained `group_dead` in Linux 6.16 (commit "sched: add
 * group_dead to sched_process_exit"); mptrace relies on it through the
 * tp_btf prototype, which is checked against the running kernel's BTF at
 * load time, so an older kernel fails with a clear verifier message instead
 * of misreading the arguments.
 */

#endif
