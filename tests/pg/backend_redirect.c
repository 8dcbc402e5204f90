// SPDX-License-Identifier: Apache-2.0
/* Preloaded into the fleet-store tests only: the store factory loads the PostgreSQL
 * backend from one fixed install path; this makes opening that path open the backend in
 * the build tree (TOTP_TEST_STORE_PG) instead, so the tests need nothing installed. The
 * factory's own checks (root-owned, not writable by others) still run on the file opened. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char* redirect(const char* path) {
    const char* target = getenv("TOTP_TEST_STORE_PG");
    if (target != NULL && path != NULL && strcmp(path, TOTP_STORE_PG_PATH) == 0) return target;
    return path;
}

/* The system call, not dlsym(RTLD_NEXT): sanitizer runtimes open files while starting. */
static int open_path(const char* path, int flags, va_list args) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) mode = va_arg(args, mode_t);
    return (int)syscall(SYS_openat, AT_FDCWD, redirect(path), flags, mode);
}

int open(const char* path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    const int fd = open_path(path, flags, args);
    va_end(args);
    return fd;
}

int open64(const char* path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    const int fd = open_path(path, flags, args);
    va_end(args);
    return fd;
}
