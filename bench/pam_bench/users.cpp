// SPDX-License-Identifier: Apache-2.0
#include "users.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "totp/otp.hpp"

namespace bench {

std::string user_name(std::size_t index) {
    char name[32];
    std::snprintf(name, sizeof name, "bu%06zu", index);
    return name;
}

std::uint32_t user_uid(std::size_t index) {
    return static_cast<std::uint32_t>(100000 + index);
}

totp::SecretBytes user_secret(std::uint64_t seed, std::size_t index) {
    std::array<std::uint8_t, 16> input{};
    const std::uint64_t value = index;
    for (int i = 0; i < 8; ++i) {
        input[i] = static_cast<std::uint8_t>(seed >> (8 * i));
        input[8 + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    totp::SecretBytes secret(digest.data(), kSecretBytes);
    totp::wipe(digest.data(), digest.size());
    return secret;
}

std::int64_t unix_now() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec;
}

std::uint64_t current_step() {
    return totp::time_step(unix_now(), kPeriod);
}

std::string code_for_step(const totp::SecretBytes& secret, std::uint64_t step) {
    auto code = totp::hotp(secret, step, totp::Algorithm::sha1, kDigits);
    if (!code) throw std::runtime_error("HOTP failed: " + code.error().message);
    return std::string(code->view());
}

std::string wrong_code(const totp::SecretBytes& secret, std::uint64_t step) {
    // Start from the valid code shifted by half the code space, and move on while it
    // collides with any step in the margin (rare: 9 codes out of a million).
    unsigned value = (std::stoul(code_for_step(secret, step)) + 500000) % 1000000;
    for (;;) {
        char text[8];
        std::snprintf(text, sizeof text, "%06u", value);
        bool collides = false;
        for (int delta = -kWrongMargin; delta <= kWrongMargin; ++delta) {
            if (code_for_step(secret, step + static_cast<std::uint64_t>(delta)) == text) {
                collides = true;
            }
        }
        if (!collides) return text;
        value = (value + 1) % 1000000;
    }
}

}  // namespace bench
