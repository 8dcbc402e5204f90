// SPDX-License-Identifier: Apache-2.0
// The small pieces around codes: HOTP for any key and counter, the otpauth URI built from
// any issuer and account name, algorithm names and user names. None may crash; codes are
// exactly `digits` digits; URIs carry only URI characters and keep their fields apart.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "totp/otp.hpp"
#include "totp/otpauth_uri.hpp"
#include "totp/username.hpp"

namespace {

bool uri_character(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("-._~%:/?&=").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            out.push_back(
                static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const auto algorithm = static_cast<totp::Algorithm>(input.number(0, 2));
    const int digits = static_cast<int>(input.number(5, 9));
    const int period = static_cast<int>(input.number(14, 301));
    const std::uint64_t counter = input.u64();
    const std::string key_text = input.text(200);
    const std::string issuer = input.text(100);
    const std::string account = input.text(100);
    const std::string word = input.rest();

    const totp::SecretBytes key(reinterpret_cast<const std::uint8_t*>(key_text.data()),
                                key_text.size());
    totp::Result<totp::SecretString> code = totp::hotp(key, counter, algorithm, digits);
    if (digits < totp::kMinDigits || digits > totp::kMaxDigits) {
        if (code) fuzz::violated("hotp accepted an out-of-range digit count");
    } else {
        if (!code) fuzz::violated("hotp failed", code.error().message);
        if (code->size() != static_cast<std::size_t>(digits)) fuzz::violated("code length");
        for (char c : code->view()) {
            if (c < '0' || c > '9') fuzz::violated("code is not decimal");
        }
    }

    const std::string encoded = totp::percent_encode(issuer);
    if (percent_decode(encoded) != issuer) fuzz::violated("percent-encoding round trip");

    const totp::OtpParams params{algorithm, digits, period};
    const totp::SecretString uri = totp::build_key_uri({issuer, account, params}, key);
    for (char c : uri.view()) {
        if (!uri_character(static_cast<unsigned char>(c)))
            fuzz::violated("URI holds a raw character");
    }
    if (std::count(uri.view().begin(), uri.view().end(), '?') != 1)
        fuzz::violated("URI query separator is not unique");

    if (const auto parsed = totp::parse_algorithm(word)) {
        if (word.size() != totp::algorithm_name(*parsed).size()) fuzz::violated("algorithm name");
    }
    if (totp::check_username(word)) {
        if (word.empty() || word.size() > totp::kMaxUsernameLength || word.front() == '.' ||
            word.find('/') != std::string::npos)
            fuzz::violated("unsafe user name accepted");
        for (char c : word) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte < 0x20 || byte == 0x7f)
                fuzz::violated("user name with a control character accepted");
        }
    }
    return 0;
}
