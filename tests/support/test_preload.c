// SPDX-License-Identifier: Apache-2.0
/* Preloaded into PAM-level tests only (never built into the module):
 *   TOTP_TEST_NOW=<unix seconds>  makes CLOCK_REALTIME / time() return that time;
 *   TOTP_TEST_SYSLOG=<file>       appends every syslog line to the file, so tests can
 *                                 assert what the module logged;
 *   NSS_WRAPPER_PASSWD=<file>     also serves fopen("/etc/passwd"), so code that reads
 *                                 the passwd file itself sees nss_wrapper's users.
 * The module itself reads the real clock through clock_gettime like in production. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static int fake_now(time_t* out) {
    const char* value = getenv("TOTP_TEST_NOW");
    if (value == NULL || *value == '\0') return 0;
    *out = (time_t)strtoll(value, NULL, 10);
    return 1;
}

int clock_gettime(clockid_t clock, struct timespec* ts) {
    time_t now;
    if ((clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE) && fake_now(&now)) {
        ts->tv_sec = now;
        ts->tv_nsec = 0;
        return 0;
    }
    /* The system call, not dlsym(RTLD_NEXT): sanitizer runtimes read the clock while
     * allocating, and dlsym allocates. */
    return (int)syscall(SYS_clock_gettime, clock, ts);
}

time_t time(time_t* out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out != NULL) *out = ts.tv_sec;
    return ts.tv_sec;
}

static void capture(int priority, const char* format, va_list args) {
    const char* path = getenv("TOTP_TEST_SYSLOG");
    if (path == NULL || *path == '\0') return;
    char line[2048];
    int prefix = snprintf(line, sizeof line, "<%d> ", priority);
    if (prefix < 0) return;
    int length = vsnprintf(line + prefix, sizeof line - (size_t)prefix - 1, format, args);
    if (length < 0) return;
    size_t total = strlen(line);
    line[total++] = '\n';
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    ssize_t ignored = write(fd, line, total);
    (void)ignored;
    close(fd);
}

void vsyslog(int priority, const char* format, va_list args) {
    capture(priority, format, args);
}

void __vsyslog_chk(int priority, int flag, const char* format, va_list args) {
    (void)flag;
    capture(priority, format, args);
}

void syslog(int priority, const char* format, ...) {
    va_list args;
    va_start(args, format);
    capture(priority, format, args);
    va_end(args);
}

void __syslog_chk(int priority, int flag, const char* format, ...) {
    (void)flag;
    va_list args;
    va_start(args, format);
    capture(priority, format, args);
    va_end(args);
}

static const char* passwd_path(const char* path) {
    const char* redirect = getenv("NSS_WRAPPER_PASSWD");
    return redirect != NULL && path != NULL && strcmp(path, "/etc/passwd") == 0 ? redirect : path;
}

FILE* fopen(const char* path, const char* mode) {
    FILE* (*real)(const char*, const char*) =
        (FILE * (*)(const char*, const char*)) dlsym(RTLD_NEXT, "fopen");
    return real(passwd_path(path), mode);
}

FILE* fopen64(const char* path, const char* mode) {
    FILE* (*real)(const char*, const char*) =
        (FILE * (*)(const char*, const char*)) dlsym(RTLD_NEXT, "fopen64");
    return real(passwd_path(path), mode);
}
