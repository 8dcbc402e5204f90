// SPDX-License-Identifier: Apache-2.0
#include "caller_auth.hpp"

#include <security/pam_appl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "terminal.hpp"
#include "totp/translation.hpp"

namespace totp_enroll {
namespace {

struct Conversation {
    std::optional<totp::Error> stopped;  // why the conversation ended early, if it did
};

void free_responses(pam_response* responses, int count) {
    for (int i = 0; i < count; ++i) {
        if (responses[i].resp != nullptr) {
            totp::wipe(responses[i].resp, std::strlen(responses[i].resp));
            std::free(responses[i].resp);
        }
    }
    std::free(responses);
}

// The C callback: nothing may throw out of it.
int converse(int count, const pam_message** messages, pam_response** out, void* data) noexcept {
    auto* conversation = static_cast<Conversation*>(data);
    if (count <= 0 || count > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
    auto* responses = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (responses == nullptr) return PAM_BUF_ERR;
    try {
        for (int i = 0; i < count; ++i) {
            const pam_message& message = *messages[i];
            const char* text = message.msg != nullptr ? message.msg : "";
            switch (message.msg_style) {
                case PAM_PROMPT_ECHO_OFF:
                case PAM_PROMPT_ECHO_ON: {
                    totp::Result<totp::SecretString> answer = ask_line(
                        text, message.msg_style == PAM_PROMPT_ECHO_OFF ? Echo::off : Echo::on);
                    if (!answer) {
                        conversation->stopped = answer.error();
                        free_responses(responses, count);
                        return PAM_CONV_ERR;
                    }
                    responses[i].resp = ::strdup(answer->c_str());
                    if (responses[i].resp == nullptr) {
                        free_responses(responses, count);
                        return PAM_BUF_ERR;
                    }
                    break;
                }
                case PAM_ERROR_MSG:
                    std::fprintf(stderr, "%s\n", text);
                    break;
                case PAM_TEXT_INFO:
                    say(text);
                    break;
                default:
                    free_responses(responses, count);
                    return PAM_CONV_ERR;
            }
        }
    } catch (...) {
        free_responses(responses, count);
        return PAM_BUF_ERR;
    }
    *out = responses;
    return PAM_SUCCESS;
}

}  // namespace

totp::Status authenticate_with_pam(const std::string& user, const Privileges& privileges) {
    Conversation conversation;
    const pam_conv conv{converse, &conversation};
    const Privileges::Elevation elevated = privileges.elevate();

    pam_handle_t* handle = nullptr;
    int rc = ::pam_start(kPamService, user.c_str(), &conv, &handle);
    if (rc != PAM_SUCCESS) {
        return totp::make_error(totp::Errc::io,
                                std::string("cannot start PAM service ") + kPamService);
    }
    if (const char* tty = ::ttyname(STDIN_FILENO)) ::pam_set_item(handle, PAM_TTY, tty);
    ::pam_set_item(handle, PAM_RUSER, user.c_str());

    say(totp::translate_filled(
        "Authenticating %s (password, and a current code if already enrolled).", user));
    rc = ::pam_authenticate(handle, PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS) rc = ::pam_acct_mgmt(handle, PAM_DISALLOW_NULL_AUTHTOK);
    const std::string reason = ::pam_strerror(handle, rc);
    ::pam_end(handle, rc);

    if (conversation.stopped) return *conversation.stopped;
    if (rc != PAM_SUCCESS) {
        return totp::make_error(totp::Errc::not_permitted, "authentication failed: " + reason);
    }
    return {};
}

}  // namespace totp_enroll
