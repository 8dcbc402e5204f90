// SPDX-License-Identifier: Apache-2.0
/* A module whose result the test chooses: "pam_result.so slot=N" returns the PAM code in
 * the environment variable TOTP_CHECK_RESULT_N (a number), PAM_SYSTEM_ERR without one. */
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PAM_EXTERN int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    (void)pamh;
    (void)flags;
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "slot=", 5) != 0) continue;
        char name[64];
        snprintf(name, sizeof name, "TOTP_CHECK_RESULT_%s", argv[i] + 5);
        const char* value = getenv(name);
        if (value != NULL) return atoi(value);
    }
    return PAM_SYSTEM_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
