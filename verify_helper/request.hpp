// SPDX-License-Identifier: Apache-2.0
// totp-verify's input (totp/verify_helper.hpp): the command line and what came on stdin.
#pragma once

#include <string>
#include <string_view>

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp_verify {

struct Request {
    std::string user;
    totp::SecretString code;
};

// Exactly one argument, a user name check_username() accepts; stdin's bytes (at most
// kMaxHelperInput + 1 were read) are the code, one trailing newline dropped. Input longer
// than kMaxHelperInput is kept as it is (cut): it can only be a wrong code, and is
// recorded as one. Errc::invalid_argument otherwise; messages never quote the input.
totp::Result<Request> parse_request(int argc, const char* const* argv, std::string_view input);

}  // namespace totp_verify
