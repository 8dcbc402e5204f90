// SPDX-License-Identifier: Apache-2.0
#include "totp/reset_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <utility>

#include "totp/hex.hpp"
#include "totp/username.hpp"

namespace totp {
namespace {

constexpr std::string_view kMagic = "pam_totp-reset-token v1";

bool sha256(const std::uint8_t* data, std::size_t size, std::array<std::uint8_t, 32>& digest) {
    unsigned int length = 0;
    return EVP_Digest(data, size, digest.data(), &length, EVP_sha256(), nullptr) == 1 &&
           length == digest.size();
}

// Digits only, no sign, no leading zero (except "0").
bool is_decimal(std::string_view text) {
    if (text.empty() || (text.size() > 1 && text.front() == '0')) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

std::string checksum_of(std::string_view text) {
    std::array<std::uint8_t, 32> digest{};
    if (!sha256(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), digest)) {
        return {};
    }
    return hex_encode(digest);
}

// The next "key=value\n" line of `text`; the value, or nullopt if the line is not that key.
std::optional<std::string_view> take_line(std::string_view& text, std::string_view key) {
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, end);
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != '=') {
        return std::nullopt;
    }
    text.remove_prefix(end + 1);
    return line.substr(key.size() + 1);
}

Error corrupt(std::string message) {
    return make_error(Errc::corrupt, "reset token entry: " + std::move(message));
}

}  // namespace

Result<IssuedResetToken> issue_reset_token(std::string_view user, std::int64_t expires) {
    std::array<std::uint8_t, kResetSelectorBytes> selector{};
    SecretBytes verifier(kResetVerifierBytes);
    if (!random_bytes(selector.data(), selector.size()) ||
        !random_bytes(verifier.data(), verifier.size())) {
        return make_error(Errc::io, "random number generator failed");
    }
    IssuedResetToken issued;
    issued.selector = hex_encode(selector);
    if (!sha256(verifier.data(), verifier.size(), issued.entry.verifier_hash)) {
        return make_error(Errc::io, "SHA-256 failed");
    }
    issued.text.reserve(kResetTokenLength);
    issued.text.append(issued.selector);
    issued.text.append(".");
    issued.text.append(hex_encode_secret(verifier.span()).view());
    issued.entry.user = std::string(user);
    issued.entry.expires = expires;
    return issued;
}

std::optional<ResetTokenParts> parse_reset_token(std::string_view text) {
    if (text.size() != kResetTokenLength || text[kResetSelectorHexLength] != '.') {
        return std::nullopt;
    }
    const std::string_view selector = text.substr(0, kResetSelectorHexLength);
    if (!is_reset_selector(selector)) return std::nullopt;
    ResetTokenParts parts;
    parts.verifier.resize(kResetVerifierBytes);
    if (!hex_decode(text.substr(kResetSelectorHexLength + 1),
                    {parts.verifier.data(), parts.verifier.size()}, HexLetters::lowercase)) {
        return std::nullopt;
    }
    parts.selector = std::string(selector);
    return parts;
}

bool reset_token_matches(const ResetTokenEntry& entry, const ResetTokenParts& token) {
    std::array<std::uint8_t, 32> digest{};
    if (!sha256(token.verifier.data(), token.verifier.size(), digest)) return false;
    return CRYPTO_memcmp(digest.data(), entry.verifier_hash.data(), digest.size()) == 0;
}

bool is_reset_selector(std::string_view selector) {
    std::array<std::uint8_t, kResetSelectorBytes> bytes{};
    return hex_decode(selector, bytes, HexLetters::lowercase);
}

Result<std::string> encode_reset_entry(const ResetTokenEntry& entry) {
    if (Status name = check_username(entry.user); !name) {
        return make_error(Errc::invalid_argument, name.error().message);
    }
    if (entry.expires < 0) return make_error(Errc::invalid_argument, "negative expiry time");
    std::string text(kMagic);
    text += "\nuser=" + entry.user + "\nverifier_sha256=";
    text += hex_encode(entry.verifier_hash);
    text += "\nexpires=" + std::to_string(entry.expires) + "\n";
    const std::string checksum = checksum_of(text);
    if (checksum.empty()) return make_error(Errc::io, "SHA-256 failed");
    text += "checksum=" + checksum + "\n";
    if (text.size() > kMaxResetEntryLength) {
        return make_error(Errc::invalid_argument, "reset token entry too long");
    }
    return text;
}

Result<ResetTokenEntry> decode_reset_entry(std::string_view text) {
    if (text.size() > kMaxResetEntryLength) return corrupt("too long");
    const std::size_t mark = text.rfind("checksum=");
    if (mark == std::string_view::npos || !text.ends_with('\n')) return corrupt("no checksum");
    const std::string_view body = text.substr(0, mark);
    if (text.substr(mark) != "checksum=" + checksum_of(body) + "\n") {
        return corrupt("checksum mismatch");
    }
    std::string_view rest = body;
    if (!rest.starts_with(kMagic) || rest.substr(kMagic.size(), 1) != "\n") {
        return corrupt("unknown format");
    }
    rest.remove_prefix(kMagic.size() + 1);

    ResetTokenEntry entry;
    const auto user = take_line(rest, "user");
    if (!user || !check_username(*user)) return corrupt("bad user line");
    entry.user = std::string(*user);
    const auto hash = take_line(rest, "verifier_sha256");
    if (!hash || !hex_decode(*hash, entry.verifier_hash, HexLetters::lowercase)) {
        return corrupt("bad verifier line");
    }
    const auto expires = take_line(rest, "expires");
    if (!expires || !is_decimal(*expires)) return corrupt("bad expires line");
    const char* end = expires->data() + expires->size();
    const auto [stop, error] = std::from_chars(expires->data(), end, entry.expires);
    if (error != std::errc{} || stop != end) return corrupt("bad expires line");
    if (!rest.empty()) return corrupt("unexpected line");
    return entry;
}

}  // namespace totp
