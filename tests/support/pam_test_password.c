// SPDX-License-Identifier: Apache-2.0
/* A password module for the PAM-level tests: the password of user U is "U-pw" (the
 * fixture's convention). Like pam_unix, it reads PAM_AUTHTOK when an earlier module set
 * it, and with use_first_pass never prompts; otherwise it asks "Password: " and stores
 * the answer as PAM_AUTHTOK. */
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdlib.h>
#include <string.h>

static int use_first_pass(int argc, const char** argv) {
    for (int i = 0; i < argc; ++i) {
        if (strcmp(argv[i], "use_first_pass") == 0) return 1;
    }
    return 0;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    (void)flags;
    const char* user = NULL;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL) return PAM_USER_UNKNOWN;
    const void* item = NULL;
    if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS) return PAM_AUTH_ERR;
    if (item == NULL) {
        if (use_first_pass(argc, argv)) return PAM_AUTHTOK_RECOVERY_ERR;
        char* answer = NULL;
        if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &answer, "Password: ") != PAM_SUCCESS ||
            answer == NULL) {
            free(answer);
            return PAM_CONV_ERR;
        }
        const int rc = pam_set_item(pamh, PAM_AUTHTOK, answer);
        free(answer);
        if (rc != PAM_SUCCESS || pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS) {
            return PAM_AUTH_ERR;
        }
    }
    const size_t length = strlen(user);
    const char* typed = item;
    const int right = strncmp(typed, user, length) == 0 && strcmp(typed + length, "-pw") == 0;
    return right ? PAM_SUCCESS : PAM_AUTH_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
