// SPDX-License-Identifier: Apache-2.0
// pam_once: one PAM login in a fresh process, timed from the inside. pam_bench
// --fresh-process runs it once per login (see bench/pam_bench/fresh_process.hpp).
//
//   pam_once SERVICE USER < code
//
// Prints one line: "<pam_authenticate result> <wall µs> <CPU µs>", both measured from just
// before pam_start to just after pam_end (CLOCK_MONOTONIC; user + system time from
// getrusage). Everything the program itself needs to start is outside that window, so what
// remains is what the service's modules cost a process that has never loaded them.
//
// Built twice (bench/CMakeLists.txt), after the programs that run PAM on a server:
//   pam_once         libpam and libc only, like sudo, su and login;
//   pam_once_crypto  also libcrypto, loaded and initialised before the login, like sshd,
//                    whose PAM process has read its host keys and done a key exchange.
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef PAM_ONCE_WITH_LIBCRYPTO
#include <openssl/crypto.h>
#include <openssl/evp.h>
#endif

enum { kCodeMax = 64 };

static int answer_with_code(int count, const struct pam_message** messages,
                            struct pam_response** responses, void* code) {
    struct pam_response* replies = calloc((size_t)count, sizeof *replies);
    if (replies == NULL) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const int style = messages[i]->msg_style;
        if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) continue;
        replies[i].resp = strdup(code);
        if (replies[i].resp == NULL) {
            for (int j = 0; j < i; ++j) free(replies[j].resp);
            free(replies);
            return PAM_BUF_ERR;
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

// The code comes on stdin: command lines are readable by every user.
static int read_code(char code[kCodeMax]) {
    if (fgets(code, kCodeMax, stdin) == NULL) return 0;
    code[strcspn(code, "\n")] = '\0';
    return 1;
}

// What the real programs have done before they call pam_start, and pam_wrapper's own cost.
static void prepare_like_a_login_program(const char* user) {
    struct passwd entry;
    struct passwd* found = NULL;
    char buffer[4096];
#ifdef PAM_ONCE_WITH_LIBCRYPTO
    unsigned char digest[EVP_MAX_MD_SIZE];
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
    EVP_Digest("", 0, digest, NULL, EVP_sha256(), NULL);  // loads the default provider
#endif
    // sshd and sudo look the user up before PAM runs. Under nss_wrapper this also parses
    // its passwd file once per process (glibc's "files" would scan it at every lookup).
    (void)getpwnam_r(user, &entry, buffer, sizeof buffer, &found);
    // pam_wrapper (1.1.4) copies the service files into /tmp/pam.X in its library
    // constructor, before main, but looks libpam up (dlopen, dlsym) at the first PAM
    // call, which a program without the wrapper does not do at all: not in the window.
    (void)pam_strerror(NULL, PAM_SUCCESS);
}

static double micros(const struct timeval* t) {
    return (double)t->tv_sec * 1e6 + (double)t->tv_usec;
}

static double cpu_micros(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return micros(&usage.ru_utime) + micros(&usage.ru_stime);
}

static double monotonic_micros(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e6 + (double)now.tv_nsec / 1e3;
}

static int login(const char* service, const char* user, const char* code) {
    const struct pam_conv conversation = {answer_with_code, (void*)code};
    pam_handle_t* handle = NULL;
    int rc = pam_start(service, user, &conversation, &handle);
    if (rc != PAM_SUCCESS) return rc;
    rc = pam_authenticate(handle, 0);
    pam_end(handle, rc);
    return rc;
}

int main(int argc, char** argv) {
    char code[kCodeMax];
    if (argc != 3 || !read_code(code)) {
        fputs("usage: pam_once SERVICE USER < code\n", stderr);
        return 2;
    }
    prepare_like_a_login_program(argv[2]);

    const double cpu_start = cpu_micros();
    const double start = monotonic_micros();
    const int rc = login(argv[1], argv[2], code);
    const double wall = monotonic_micros() - start;
    const double cpu = cpu_micros() - cpu_start;

    explicit_bzero(code, sizeof code);
    printf("%d %.1f %.1f\n", rc, wall, cpu);
    return fflush(stdout) == 0 ? 0 : 1;
}
