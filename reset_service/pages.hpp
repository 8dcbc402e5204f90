// SPDX-License-Identifier: Apache-2.0
// The service's pages: plain HTML that works without JavaScript, one stylesheet, readable
// on a phone. Every page a user can reach says what to do next. Links and form actions are
// relative, so the service works under any path of base_url behind a proxy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "totp/secret.hpp"

namespace resetd {

struct Page {
    unsigned status = 200;
    totp::SecretString html;  // the reset form holds the token
};

struct Site {
    std::string name;        // shown in titles
    int token_minutes = 15;  // how long a link lasts
};

// What the reset form shows above its fields.
enum class ResetProblem {
    none,
    passwords_differ,
    code_wrong,
    code_locked,
    password_refused,            // with the policy's messages; the code was not used
    password_refused_code_used,  // with PAM's messages; the code was used up
};

struct ResetForm {
    std::string_view token;
    std::string_view csrf_field;
    std::string_view user;
    ResetProblem problem = ResetProblem::none;
    std::vector<std::string> policy_messages;
};

std::string_view stylesheet();

Page request_form(const Site& site, std::string_view csrf_field);
Page request_sent(const Site& site);
Page reset_form(const Site& site, const ResetForm& form);
Page password_changed(const Site& site);
Page link_invalid(const Site& site);
Page too_many_requests(const Site& site);
// The CSRF check failed. `token` (may be empty) lets the reset form be opened again.
Page form_expired(const Site& site, std::string_view token);
Page server_error(const Site& site);
// 404, 405, 411, 413, 415, 503 (the monitor does not answer) and the like: a short
// explanation and a way back.
Page http_error(const Site& site, unsigned status);

}  // namespace resetd
