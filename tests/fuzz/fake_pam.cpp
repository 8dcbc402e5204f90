// SPDX-License-Identifier: Apache-2.0
#include "fake_pam.hpp"

#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

std::string format(const char* fmt, va_list args) {
    va_list copy;
    va_copy(copy, args);
    const int size = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string out(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
    if (size > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, args);
    return out;
}

}  // namespace

extern "C" {

int pam_get_user(pam_handle_t* pamh, const char** user, const char* /*prompt*/) {
    if (pamh->get_user_rc != PAM_SUCCESS) return pamh->get_user_rc;
    *user = pamh->user ? pamh->user->c_str() : nullptr;
    return PAM_SUCCESS;
}

int pam_get_item(const pam_handle_t* pamh, int type, const void** item) {
    *item = nullptr;
    switch (type) {
        case PAM_AUTHTOK:
            if (pamh->authtok) *item = pamh->authtok->c_str();
            return PAM_SUCCESS;
        case PAM_SERVICE:
            *item = pamh->service.c_str();
            return PAM_SUCCESS;
        case PAM_RHOST:
            if (!pamh->rhost.empty()) *item = pamh->rhost.c_str();
            return PAM_SUCCESS;
        case PAM_USER:
            if (pamh->user) *item = pamh->user->c_str();
            return PAM_SUCCESS;
        default:
            return PAM_BAD_ITEM;
    }
}

int pam_set_item(pam_handle_t* pamh, int type, const void* item) {
    if (pamh->set_item_rc != PAM_SUCCESS) return pamh->set_item_rc;
    if (type != PAM_AUTHTOK) return PAM_BAD_ITEM;
    if (item == nullptr) {
        pamh->authtok.reset();
    } else {
        pamh->authtok = static_cast<const char*>(item);
    }
    return PAM_SUCCESS;
}

int pam_set_data(pam_handle_t* pamh, const char* name, void* data,
                 void (*cleanup)(pam_handle_t* pamh, void* data, int error_status)) {
    auto found = pamh->data.find(name);
    if (found != pamh->data.end() && found->second.second != nullptr) {
        found->second.second(pamh, found->second.first, PAM_DATA_REPLACE);
    }
    pamh->data[name] = {data, cleanup};
    return PAM_SUCCESS;
}

int pam_get_data(const pam_handle_t* pamh, const char* name, const void** data) {
    const auto found = pamh->data.find(name);
    if (found == pamh->data.end()) return PAM_NO_MODULE_DATA;
    *data = found->second.first;
    return PAM_SUCCESS;
}

int pam_vprompt(pam_handle_t* pamh, int style, char** response, const char* fmt, va_list args) {
    if (response != nullptr) *response = nullptr;
    if (style == PAM_TEXT_INFO || style == PAM_ERROR_MSG) {
        pamh->messages.push_back(format(fmt, args));
        return PAM_SUCCESS;
    }
    pamh->prompts.push_back(format(fmt, args));
    pamh->prompt_styles.push_back(style);
    if (pamh->next_answer >= pamh->answers.size()) return PAM_CONV_ERR;
    const std::optional<std::string>& answer = pamh->answers[pamh->next_answer++];
    if (!answer) return PAM_CONV_ERR;
    // Like libpam: a malloc'ed copy the module must free (LeakSanitizer checks it does).
    if (response != nullptr) *response = strdup(answer->c_str());
    return PAM_SUCCESS;
}

int pam_prompt(pam_handle_t* pamh, int style, char** response, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    const int rc = pam_vprompt(pamh, style, response, fmt, args);
    va_end(args);
    return rc;
}

void pam_vsyslog(const pam_handle_t* pamh, int priority, const char* fmt, va_list args) {
    auto* handle = const_cast<pam_handle_t*>(pamh);
    handle->log.push_back(format(fmt, args));
    handle->log_priorities.push_back(priority);
}

void pam_syslog(const pam_handle_t* pamh, int priority, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    pam_vsyslog(pamh, priority, fmt, args);
    va_end(args);
}

}  // extern "C"

void fake_pam_end(pam_handle* pamh, int status) {
    for (auto& [name, entry] : pamh->data) {
        if (entry.second != nullptr) entry.second(pamh, entry.first, status);
    }
    pamh->data.clear();
}
