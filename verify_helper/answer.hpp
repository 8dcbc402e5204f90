// SPDX-License-Identifier: Apache-2.0
// What totp-verify decides for one request, apart from the process it runs in (main.cpp),
// so tests can drive it with a store of their own and failing system calls.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "request.hpp"
#include "totp/config.hpp"
#include "totp/store.hpp"
#include "totp/verify_helper.hpp"

namespace totp_verify {

using LogLine = std::function<void(int priority, const std::string& line)>;

// Who may ask: the account the caller (real uid `caller`) runs as checks only codes of a
// user name of its own uid; root checks anyone's; any other caller checks another user's
// code only when its account is a member of settings.verify_helper_group. Anything else
// is refused before the record is opened, so nobody can count failures (and start a
// lockout) against another user. An allowed request is checked and recorded exactly as
// the module does it as root (totp::check_and_record) under settings' policy, and the
// attempt is durable before accepted or refused is returned. Every outcome is logged
// with the caller's uid; never the code.
totp::HelperExit answer_request(uid_t caller, const Request& request,
                                const totp::Settings& settings, totp::Store& store,
                                std::int64_t now, const LogLine& log);

}  // namespace totp_verify
