// SPDX-License-Identifier: Apache-2.0
#include "state_builder.hpp"

#include <algorithm>

#include "one_token.hpp"
#include "totp/otp.hpp"
#include "totp/recovery.hpp"

namespace fuzz {

const char* const kRecoveryCodes[4] = {"ABCD-EFGH-JKMN", "0000-1111-2222", "12345678",
                                       "PQRS-TVWX-YZ99"};

BuiltState build_state(Input& input, std::int64_t now) {
    BuiltState built;
    totp::UserState& state = built.state;
    one_token(state).params.algorithm = static_cast<totp::Algorithm>(input.number(0, 2));
    one_token(state).params.digits =
        static_cast<int>(input.number(totp::kMinDigits, totp::kMaxDigits));
    one_token(state).params.period =
        static_cast<int>(input.number(totp::kMinPeriod, totp::kMaxPeriod));
    const std::size_t secret_size =
        static_cast<std::size_t>(input.number(totp::kMinSecretBytes, totp::kMaxSecretBytes));
    one_token(state).secret = totp::SecretBytes(secret_size);
    for (std::size_t i = 0; i < secret_size; ++i) one_token(state).secret.data()[i] = input.byte();

    const std::uint64_t now_step = totp::time_step(now, one_token(state).params.period);
    switch (input.byte() % 4) {
        case 0:
            break;  // never logged in
        case 1:
            one_token(state).last_step =
                now_step - std::min<std::uint64_t>(now_step, input.number(0, 3));
            break;
        case 2:
            one_token(state).last_step = now_step + static_cast<std::uint64_t>(input.number(0, 3));
            break;
        default:
            one_token(state).last_step = input.u64();
    }
    switch (input.byte() % 4) {
        case 0:
            break;
        case 1:
            state.failures = static_cast<std::uint32_t>(input.number(0, 10));
            break;
        case 2:  // at the state format's limit
            state.failures = static_cast<std::uint32_t>(1000000 - input.number(0, 2));
            break;
        default:
            state.failures = static_cast<std::uint32_t>(input.number(0, 1000000));
    }
    switch (input.byte() % 4) {
        case 0:
            break;
        case 1:
            state.locked_until = std::max<std::int64_t>(0, now + input.number(-400, 400));
            break;
        default:
            state.locked_until = input.number(0, kMaxTime);
    }
    const int recovery = static_cast<int>(input.byte() % 16);
    for (int i = 0; i < 4; ++i) {
        if ((recovery & (1 << i)) == 0) continue;
        const auto normalized = totp::normalize_recovery_code(kRecoveryCodes[i]);
        totp::Result<totp::RecoveryHash> hash = totp::hash_recovery_code(normalized->view());
        if (hash) {
            state.recovery.push_back(*hash);
            built.recovery.push_back(i);
        }
    }
    state.created = input.number(0, kMaxTime);
    if (input.flag()) {
        state.email = "user@example.org";
        state.email_verified = input.flag();
    }
    return built;
}

std::string code_for(const totp::UserState& state, std::int64_t now, int offset) {
    const std::int64_t step =
        static_cast<std::int64_t>(totp::time_step(now, one_token(state).params.period));
    if (step + offset < 0) return "";
    totp::Result<totp::SecretString> code =
        totp::hotp(one_token(state).secret, static_cast<std::uint64_t>(step + offset),
                   one_token(state).params.algorithm, one_token(state).params.digits);
    return code ? std::string(code->view()) : "";
}

std::string make_answer(Input& input, const totp::UserState& state, std::int64_t now) {
    switch (input.byte() % 8) {
        case 0:
        case 1:
            return code_for(state, now, static_cast<int>(input.number(-3, 3)));
        case 2:
            return kRecoveryCodes[input.byte() % 4];
        case 3: {
            std::string code = kRecoveryCodes[input.byte() % 4];  // typed loosely
            std::transform(code.begin(), code.end(), code.begin(), [](char c) {
                return c == '0' ? 'o' : (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
            });
            return code;
        }
        case 4:
            return code_for(state, now, static_cast<int>(input.number(-3, 3))) + input.text(4);
        default:
            return input.text(80);
    }
}

bool acceptable(const totp::UserState& before, const std::string& answer, std::int64_t now,
                int window) {
    if (before.locked_until > now) return false;
    for (int offset = -window; offset <= window; ++offset) {
        const std::int64_t step =
            static_cast<std::int64_t>(totp::time_step(now, one_token(before).params.period)) +
            offset;
        if (step < 0) continue;
        if (one_token(before).last_step &&
            static_cast<std::uint64_t>(step) <= *one_token(before).last_step)
            continue;
        const std::string code = code_for(before, now, offset);
        if (!code.empty() && code == answer) return true;
    }
    if (const auto normalized = totp::normalize_recovery_code(answer)) {
        if (totp::find_recovery_code(before.recovery, normalized->view())) return true;
    }
    return false;
}

void add_authenticators(Input& input, totp::UserState& state, std::int64_t now) {
    const std::uint8_t mode = input.byte();
    if ((mode & 1) != 0) {
        totp::Authenticator& first = state.authenticators.front();
        const int bound = totp::kMaxClockOffsetSeconds / first.params.period;
        first.offset = static_cast<std::int32_t>(input.number(-bound, bound));
    }
    for (int extra = 0; extra < ((mode >> 1) & 3) && extra < 2; ++extra) {
        totp::Authenticator token;
        token.name = "token" + std::to_string(extra);
        token.type = input.flag() ? totp::OtpType::hotp : totp::OtpType::totp;
        token.params.algorithm = static_cast<totp::Algorithm>(input.number(0, 2));
        token.params.digits = static_cast<int>(input.number(totp::kMinDigits, totp::kMaxDigits));
        token.params.period = static_cast<int>(input.number(totp::kMinPeriod, totp::kMaxPeriod));
        token.secret = totp::SecretBytes(20);
        for (std::size_t i = 0; i < 20; ++i) token.secret.data()[i] = input.byte();
        // A record never holds one secret twice (user_state.hpp): make this one differ.
        token.secret.data()[0] = static_cast<std::uint8_t>(0xf0 | extra);
        totp::SecretBytes& first = state.authenticators.front().secret;
        if (first.size() == 20 && first.data()[0] == token.secret.data()[0]) first.data()[0] = 0;
        if (token.type == totp::OtpType::hotp) {
            token.counter = static_cast<std::uint64_t>(input.number(0, 1000));
        } else if (input.flag()) {
            token.last_step = totp::time_step(now, token.params.period) - input.number(0, 2);
        }
        token.last_used = input.flag() ? now - input.number(0, 1000) : 0;
        if (token.last_used < 0) token.last_used = 0;
        state.authenticators.push_back(std::move(token));
    }
}

std::string token_code(const totp::Authenticator& token, std::int64_t counter) {
    if (counter < 0) return "";
    totp::Result<totp::SecretString> code =
        totp::hotp(token.secret, static_cast<std::uint64_t>(counter), token.params.algorithm,
                   token.params.digits);
    return code ? std::string(code->view()) : "";
}

namespace {

// Where a TOTP token's window is centred (never below step 0).
std::int64_t centre_of(const totp::Authenticator& token, std::int64_t now) {
    const auto step = static_cast<std::int64_t>(totp::time_step(now, token.params.period));
    return std::max<std::int64_t>(0, step + token.offset);
}

}  // namespace

std::string make_token_answer(Input& input, const totp::UserState& state, std::int64_t now,
                              const totp::Policy& policy) {
    if (input.flag()) return make_answer(input, state, now);
    const totp::Authenticator& token =
        state.authenticators[input.byte() % state.authenticators.size()];
    if (token.type == totp::OtpType::hotp) {
        const auto base = static_cast<std::int64_t>(token.counter);
        return token_code(token, base + input.number(-2, policy.hotp_window + 2));
    }
    return token_code(token, centre_of(token, now) + input.number(-3, 3));
}

bool acceptable_with_tokens(const totp::UserState& before, const std::string& answer,
                            std::int64_t now, const totp::Policy& policy) {
    if (before.locked_until > now) return false;
    for (const totp::Authenticator& token : before.authenticators) {
        if (token.type == totp::OtpType::hotp) {
            for (int ahead = 0; ahead <= policy.hotp_window; ++ahead) {
                if (token_code(token, static_cast<std::int64_t>(token.counter) + ahead) == answer)
                    return true;
            }
            continue;
        }
        const std::int64_t centre = centre_of(token, now);
        for (std::int64_t step = centre - policy.window; step <= centre + policy.window; ++step) {
            if (step < 0) continue;
            if (token.last_step && static_cast<std::uint64_t>(step) <= *token.last_step) continue;
            const std::string code = token_code(token, step);
            if (!code.empty() && code == answer) return true;
        }
    }
    if (const auto normalized = totp::normalize_recovery_code(answer)) {
        if (totp::find_recovery_code(before.recovery, normalized->view())) return true;
    }
    return false;
}

}  // namespace fuzz
