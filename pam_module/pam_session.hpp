// SPDX-License-Identifier: Apache-2.0
// The PAM handle, seen through what the module needs: who is logging in, asking them
// for a code, the PAM_AUTHTOK item, and syslog lines carrying user, service and rhost.
#pragma once

#include <security/pam_modules.h>

#include <optional>
#include <string>

#include "totp/secret.hpp"

namespace pam_totp {

class PamSession {
  public:
    // `flags` as pam_sm_authenticate got them: PAM_SILENT keeps inform() and warn() quiet.
    PamSession(pam_handle_t* pamh, int flags) : pamh_(pamh), silent_((flags & PAM_SILENT) != 0) {}

    // PAM_SUCCESS and the user name, or the error pam_get_user returned.
    int fetch_user();
    // The name the login program passed (PAM_USER), as typed.
    const std::string& user() const { return user_; }
    // The account it resolved to, named canonically; log lines name both when they differ.
    void set_account_name(const std::string& name) { account_ = name; }

    // PAM_RHOST exactly as the application set it ("" when unset): the client's address or
    // host name as the application saw it, never resolved here.
    std::string remote_host() const;

    // Asks with echo off; nullopt if the conversation failed or returned nothing.
    std::optional<totp::SecretString> ask_hidden(const std::string& prompt);

    // A message for the user (PAM_TEXT_INFO) and a warning (PAM_ERROR_MSG); nothing is shown
    // when the application asked for silence, and a failing conversation changes nothing.
    void inform(const std::string& text) const;
    void warn(const std::string& text) const;

    std::optional<totp::SecretString> authtok() const;
    bool set_authtok(const totp::SecretString& value);

    // forward_pass: the code split off the combined answer, kept in the PAM handle for a
    // later pam_totp line of the same stack, which takes it once. The kept code is bound to
    // the attempt that split it: the user name and the password handed on as PAM_AUTHTOK.
    // A kept code still untaken when a successful login ends is logged: that stack never
    // checked the second factor.
    bool keep_forwarded_code(totp::SecretString code, const totp::SecretString& password);

    enum class Forwarded {
        none,   // no forward_pass line ran before this one
        code,   // the code split off in this very attempt
        stale,  // a code from another attempt (another user, a password no longer set)
    };
    Forwarded take_forwarded_code(totp::SecretString& code);

    // One syslog line (LOG_AUTHPRIV) "<what> for user X (service=Y rhost=Z)".
    void log(int priority, const std::string& what) const;
    void log_plain(int priority, const std::string& what) const;

  private:
    std::string item(int type) const;

    pam_handle_t* pamh_;
    bool silent_;
    std::string user_;
    std::string account_;
};

}  // namespace pam_totp
