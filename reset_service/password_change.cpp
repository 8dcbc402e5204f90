// SPDX-License-Identifier: Apache-2.0
#include "password_change.hpp"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
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
    const std::function<bool()>* still_allowed = nullptr;  // null: no prompt is answered
    int prompts = 0;
    bool withdrawn = false;
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
                if (conversation.still_allowed == nullptr || ++conversation.prompts > kMaxPrompts) {
                    free_responses(responses, count);
                    return PAM_CONV_ERR;
                }
                if (!(*conversation.still_allowed)()) {
                    conversation.withdrawn = true;
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

// A PAM transaction on kPamService, ended (pam_end with the last status) when it goes away.
class Transaction {
  public:
    Transaction(const std::string& user, Conversation& conversation)
        : conv_{conversation_callback, &conversation} {
        pam_handle_t* raw = nullptr;
        status_ = pam_start(kPamService, user.c_str(), &conv_, &raw);
        if (status_ != PAM_SUCCESS) {
            if (raw != nullptr) pam_end(raw, status_);
            raw = nullptr;
        }
        handle_.reset(raw);
    }
    Transaction(const Transaction&) = delete;  // PAM holds a pointer to conv_
    Transaction& operator=(const Transaction&) = delete;

    bool started() const { return handle_ != nullptr; }
    pam_handle_t* get() const { return handle_.get(); }
    // Records the status of each call for pam_end.
    int& status() { return status_; }
    std::string describe() const {
        if (!started()) return "pam_start failed: " + std::to_string(status_);
        return pam_strerror(handle_.get(), status_);
    }

  private:
    pam_conv conv_;
    int status_ = PAM_SUCCESS;
    std::unique_ptr<pam_handle_t, PamEnd> handle_{nullptr, PamEnd{&status_}};
};

}  // namespace

AccountManagement check_account_management(const std::string& user) {
    std::vector<std::string> ignored;  // expiry warnings: nobody reads them here
    Conversation conversation{{}, &ignored};
    Transaction pam(user, conversation);
    if (!pam.started()) return {false, pam.describe()};
    pam.status() = pam_acct_mgmt(pam.get(), PAM_SILENT);
    const bool allowed = pam.status() == PAM_SUCCESS || pam.status() == PAM_NEW_AUTHTOK_REQD;
    return {allowed, pam.describe()};
}

PasswordChange change_password(const std::string& user, std::string_view new_password,
                               const std::string& client_ip,
                               const std::function<bool()>& still_allowed) {
    PasswordChange result;
    Conversation conversation{new_password, &result.messages, &still_allowed};
    Transaction pam(user, conversation);
    if (!pam.started()) {
        result.detail = pam.describe();
        return result;
    }
    int& status = pam.status();
    status = pam_set_item(pam.get(), PAM_RHOST, client_ip.c_str());
    if (status == PAM_SUCCESS && !still_allowed()) {
        result.outcome = PasswordChange::Outcome::withdrawn;
        result.detail = "the account was locked or expired before the change";
        return result;
    }
    if (status == PAM_SUCCESS) status = pam_chauthtok(pam.get(), 0);
    if (conversation.withdrawn) {
        result.outcome = PasswordChange::Outcome::withdrawn;
        result.detail = "the account was locked or expired during the change";
        return result;
    }
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
    result.detail = pam.describe();
    return result;
}

}  // namespace resetd
