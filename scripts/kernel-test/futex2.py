#!/usr/bin/env python3
"""A futex2 wait (Linux 6.7): a child sleeps in futex_wait(2) on a word of
shared memory until its parent wakes it with futex_wake(2) 0.5 s later.
Exits 0 when it waited and was woken, 38 (ENOSYS) when the kernel has no
futex2 system calls, 1 otherwise."""
import ctypes, mmap, os, sys, time

NR_FUTEX_WAKE, NR_FUTEX_WAIT = 454, 455	# x86_64 and arm64 alike
FUTEX2_SIZE_U32 = 0x02
ANY = 0xffffffff
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
word = mmap.mmap(-1, 4096, mmap.MAP_SHARED)
addr = ctypes.addressof(ctypes.c_char.from_buffer(word))

def sys_call(*a):
	r = libc.syscall(*[ctypes.c_long(x) for x in a])
	return r, ctypes.get_errno()

r, err = sys_call(NR_FUTEX_WAKE, addr, ANY, 1, FUTEX2_SIZE_U32)
if r < 0 and err == 38:
	sys.exit(38)
pid = os.fork()
if pid == 0:
	while word[0] == 0:	# value 0: sleep until woken
		r, err = sys_call(NR_FUTEX_WAIT, addr, 0, ANY, FUTEX2_SIZE_U32, 0, 1)
		if r < 0 and err not in (11, 4):	# EAGAIN, EINTR
			os._exit(1)
	os._exit(0)
time.sleep(0.5)
word[0] = 1
sys_call(NR_FUTEX_WAKE, addr, ANY, 1, FUTEX2_SIZE_U32)
_, st = os.waitpid(pid, 0)
sys.exit(0 if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0 else 1)
