// SPDX-License-Identifier: Apache-2.0
#include "password_change.hpp"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>

#include "totp/secret.hpp"
#include "totp/text.hpp"

namespace resetd {
namespace {

constexpr std::size_t kMaxMessages = 8;
constexpr std::size_t kMaxMessageLength = 256;
// pam_pwquality asks twice (new, retype); a stack that keeps asking is refused.
constexpr int kMaxPrompts = 4;

struct Conversation {
    std::string_view password;
    std::vector<std::string>* messages;
    int prompts = 0;
};

void free_responses(pam_response* responses, int count) {
    if (responses == nullptr) return;
    for (int i = 0; i < count; ++i) {
        if (responses[i].resp != nullptr) {
            totp::wipe(responses[i].resp, std::strlen(responses[i].resp));
            std::free(responses[i].resp);
        }
    }
    std::free(responses);
}

int converse(Conversation& conversation, int count, const pam_message** messages,
             pam_response** out) {
    // PAM frees the responses with free(), so they come from calloc/strdup.
    auto* responses = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (responses == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        switch (messages[i]->msg_style) {
            case PAM_PROMPT_ECHO_OFF:
                if (++conversation.prompts > kMaxPrompts) {
                    free_responses(responses, count);
                    return PAM_CONV_ERR;
                }
                responses[i].resp =
                    strndup(conversation.password.data(), conversation.password.size());
                if (responses[i].resp == nullptr) {
                    free_responses(responses, count);
                    return PAM_BUF_ERR;
                }
                break;
            case PAM_ERROR_MSG:
            case PAM_TEXT_INFO:
                if (messages[i]->msg != nullptr && conversation.messages->size() < kMaxMessages) {
                    conversation.messages->push_back(
                        totp::printable(messages[i]->msg, kMaxMessageLength));
                }
                break;
            default:  // nothing in a password change should ask for visible input
                free_responses(responses, count);
                return PAM_CONV_ERR;
        }
    }
    *out = responses;
    return PAM_SUCCESS;
}

extern "C" int conversation_callback(int count, const pam_message** messages, pam_response** out,
                                     void* data) {
    if (count <= 0 || count > PAM_MAX_NUM_MSG || data == nullptr) return PAM_CONV_ERR;
    try {
        return converse(*static_cast<Conversation*>(data), count, messages, out);
    } catch (...) {
        return PAM_CONV_ERR;
    }
}

struct PamEnd {
    int* status;
    void operator()(pam_handle_t* handle) const { pam_end(handle, *status); }
};

}  // namespace

PasswordChange change_password(const std::string& user, std::string_view new_password,
                               const std::string& client_ip) {
    PasswordChange result;
    Conversation conversation{new_password, &result.messages};
    const pam_conv conv{conversation_callback, &conversation};
    pam_handle_t* raw = nullptr;
    int status = pam_start(kPamService, user.c_str(), &conv, &raw);
    if (status != PAM_SUCCESS) {
        result.detail = "pam_start failed: " + std::to_string(status);
        if (raw != nullptr) pam_end(raw, status);
        return result;
    }
    std::unique_ptr<pam_handle_t, PamEnd> handle(raw, PamEnd{&status});
    status = pam_set_item(raw, PAM_RHOST, client_ip.c_str());
    if (status == PAM_SUCCESS) status = pam_chauthtok(raw, 0);
    switch (status) {
        case PAM_SUCCESS:
            result.outcome = PasswordChange::Outcome::changed;
            break;
        // What pam_pwquality and pam_unix return for a password the policy refuses.
        case PAM_AUTHTOK_ERR:
        case PAM_MAXTRIES:
        case PAM_AUTHTOK_RECOVERY_ERR:
            result.outcome = result.messages.empty() ? PasswordChange::Outcome::failed
                                                     : PasswordChange::Outcome::refused;
            break;
        default:
            break;
    }
    result.detail = pam_strerror(raw, status);
    return result;
}

}  // namespace resetd
