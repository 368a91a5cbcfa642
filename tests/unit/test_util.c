// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Terminal-safe text: what sb_put_printable() and json_str() let through. */
#include <string.h>
#include "out_json.h"
#include "tap.h"
#include "util.h"

static char *printable(const char *s)
{
	static struct sbuf b;

	b.len = 0;
	sb_put_printable(&b, s, strlen(s));
	return b.s ? b.s : "";
}

static char *json(const char *s)
{
	static struct sbuf b;

	b.len = 0;
	json_str(&b, s, strlen(s));
	return b.s;
}

static void test_printable(void)
{
	/* kept: ASCII, Latin-1 letters, CJK, emoji */
	ok(!strcmp(printable("make -j4"), "make -j4"), "ASCII as is");
	ok(!strcmp(printable("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"),
	   "é, 日, 😀 as is");
	ok(!strcmp(printable("\xc2\xa0nbsp"), "\xc2\xa0nbsp"), "U+00A0, just past C1, as is");
	/* C0, ESC, DEL, invalid UTF-8: as before */
	ok(!strcmp(printable("a\x1b[2Jb\n\x7f"), "a\\x1b[2Jb\\x0a\\x7f"), "ESC, newline, DEL: %s",
	   printable("a\x1b[2Jb\n\x7f"));
	ok(!strcmp(printable("\xff\xc3"), "\\xff\\xc3"), "invalid bytes");
	/* C1: xterm takes U+009B as CSI, U+009D as OSC */
	ok(!strcmp(printable("x\xc2\x9b" "31mred"), "x\\xc2\\x9b31mred"), "U+009B (CSI): %s",
	   printable("x\xc2\x9b" "31mred"));
	ok(!strcmp(printable("\xc2\x80\xc2\x9f"), "\\xc2\\x80\\xc2\\x9f"), "U+0080 and U+009F");
	/* bidi: the Trojan Source set */
	ok(!strcmp(printable("admin\xe2\x80\xae" "txt.exe"), "admin\\xe2\\x80\\xaetxt.exe"),
	   "U+202E RLO: %s", printable("admin\xe2\x80\xae" "txt.exe"));
	ok(!strcmp(printable("\xe2\x80\xaa\xe2\x80\xac"), "\\xe2\\x80\\xaa\\xe2\\x80\\xac"),
	   "U+202A LRE, U+202C PDF");
	ok(!strcmp(printable("\xe2\x81\xa6\xe2\x81\xa9"), "\\xe2\\x81\\xa6\\xe2\\x81\\xa9"),
	   "U+2066 LRI, U+2069 PDI");
	ok(!strcmp(printable("\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa"),
		   "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa"),
	   "U+2029, U+202F, U+2065, U+206A (neighbours) as is");
}

static void test_unsafe(void)
{
	uint32_t cp;

	ok(utf8_next((const unsigned char *)"\xe2\x80\xae", 3, &cp) == 3 && cp == 0x202e, "decodes U+202E");
	ok(utf8_unsafe(0x85) && utf8_unsafe(0x9f) && !utf8_unsafe(0xa0) && !utf8_unsafe(0x7e),
	   "C1 bounds");
	ok(utf8_unsafe(0x202a) && utf8_unsafe(0x202e) && !utf8_unsafe(0x2029) && !utf8_unsafe(0x202f),
	   "embeddings and overrides bounds");
	ok(utf8_unsafe(0x2066) && utf8_unsafe(0x2069) && !utf8_unsafe(0x2065) && !utf8_unsafe(0x206a),
	   "isolates bounds");
}

static void test_json(void)
{
	/* the same string to a JSON parser, but nothing a terminal acts on */
	ok(!strcmp(json("a\xc2\x9b" "b"), "\"a\\u009bb\""), "JSON: C1 as \\u: %s", json("a\xc2\x9b" "b"));
	ok(!strcmp(json("x\xe2\x80\xae" "y"), "\"x\\u202ey\""), "JSON: RLO as \\u: %s",
	   json("x\xe2\x80\xae" "y"));
	ok(!strcmp(json("\xc3\xa9"), "\"\xc3\xa9\""), "JSON: é as is");
}

static void test_maps_futex_key(void)
{
	/* as /proc/PID/maps prints them: a semaphore in /dev/shm, shared
	 * anonymous memory (shmem's inode), the heap, a library */
	static const char maps[] =
		"55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]\n"
		"7f1c2a000000-7f1c2a001000 rw-s 00000000 00:1a 4711                       /dev/shm/sem.ticket (deleted)\n"
		"7f1c2a001000-7f1c2a003000 rw-s 00002000 00:01 9001                       /dev/zero (deleted)\n"
		"7f1c2b000000-7f1c2b028000 r--p 00000000 fe:01 131                        /usr/lib/x86_64-linux-gnu/libc.so.6\n"
		"7f1c2c000000-7f1c2c001000 rw-s 00000000 103:02 77";	/* no newline at the end */
	uint64_t dev = 1, ino = 2, off = 3;

	char path[64];

	is_int(maps_futex_key(maps, strlen(maps), 0x7f1c2a000010, &dev, &ino, &off, path, sizeof(path)), 1,
	       "semaphore: found");
	ok(!strcmp(path, "/dev/shm/sem.ticket (deleted)"), "its path: %s", path);
	ok(dev == 0x1a && ino == 4711 && off == 0x10, "its key: dev 0:0x1a, inode, offset in the file");
	is_int(maps_futex_key(maps, strlen(maps), 0x7f1c2a002008, &dev, &ino, &off, NULL, 0), 1, "shared anonymous: found");
	ok(dev == 1 && ino == 9001 && off == 0x2000 + 0x1008, "offset adds the mapping's file offset");
	is_int(maps_futex_key(maps, strlen(maps), 0x7f1c2c000ff8, &dev, &ino, &off, NULL, 0), 1, "last line, no newline");
	ok(dev == ((uint64_t)0x103 << 20 | 2) && ino == 77 && off == 0xff8, "dev is MKDEV(major, minor)");
	dev = 5;
	is_int(maps_futex_key(maps, strlen(maps), 0x55d0c0a00100, &dev, &ino, &off, NULL, 0), 0, "heap: anonymous");
	is_int(dev, 5, "anonymous leaves the key alone");
	is_int(maps_futex_key(maps, strlen(maps), 0x7f1c2a003000, &dev, &ino, &off, NULL, 0), -1,
	       "an end address is outside");
	is_int(maps_futex_key(maps, strlen(maps), 0x1000, &dev, &ino, &off, NULL, 0), -1, "unmapped");
	is_int(maps_futex_key("garbage\n\n", 9, 0x1000, &dev, &ino, &off, NULL, 0), -1, "garbage: not found");
}

int main(void)
{
	test_maps_futex_key();
	test_printable();
	test_unsafe();
	test_json();
	return tap_done();
}
