// SPDX-License-Identifier: Apache-2.0
// Logs in through a pam_wrapper service the way a login program does, answering the
// prompts in order with the given answers:
//   pam_login SERVICE USER ANSWER...
// Exit 0 when pam_authenticate succeeds, 1 when it fails (the PAM error on stderr),
// 2 on a usage error. Run with pam_wrapper and nss_wrapper preloaded.
#include <security/pam_appl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Answers {
    std::vector<std::string> texts;
    std::size_t next = 0;
};

int converse(int count, const pam_message** messages, pam_response** out, void* data) {
    auto* answers = static_cast<Answers*>(data);
    auto* responses = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (responses == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const int style = messages[i]->msg_style;
        if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) continue;
        std::fprintf(stderr, "prompt: %s\n", messages[i]->msg);
        if (answers->next >= answers->texts.size()) {
            for (int j = 0; j < i; ++j) std::free(responses[j].resp);
            std::free(responses);
            return PAM_CONV_ERR;
        }
        responses[i].resp = strdup(answers->texts[answers->next++].c_str());
    }
    *out = responses;
    return PAM_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: pam_login SERVICE USER ANSWER...\n");
        return 2;
    }
    Answers answers{std::vector<std::string>(argv + 3, argv + argc)};
    const pam_conv conversation{converse, &answers};
    pam_handle_t* handle = nullptr;
    if (pam_start(argv[1], argv[2], &conversation, &handle) != PAM_SUCCESS) {
        std::fprintf(stderr, "pam_start failed\n");
        return 1;
    }
    const int rc = pam_authenticate(handle, 0);
    std::fprintf(stderr, "pam_authenticate: %s\n", pam_strerror(handle, rc));
    pam_end(handle, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}
