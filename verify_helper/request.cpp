// SPDX-License-Identifier: Apache-2.0
#include "request.hpp"

#include "totp/username.hpp"

namespace totp_verify {

totp::Result<Request> parse_request(int argc, const char* const* argv, std::string_view input) {
    if (argc != 2 || argv == nullptr || argv[1] == nullptr) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "usage: totp-verify USER, the code on standard input");
    }
    Request request;
    request.user = argv[1];
    if (const totp::Status name = totp::check_username(request.user); !name) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "refusing unsafe user name: " + name.error().message);
    }
    if (input.ends_with('\n')) input.remove_suffix(1);
    if (input.empty()) {
        return totp::make_error(totp::Errc::invalid_argument, "no code on standard input");
    }
    request.code.append(input);
    return request;
}

}  // namespace totp_verify
