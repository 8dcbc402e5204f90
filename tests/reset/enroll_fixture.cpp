// SPDX-License-Identifier: Apache-2.0
// Test helper: enrolls a user through the core store API with a known secret.
//   enroll_fixture STATE_DIR USER BASE32_SECRET [EMAIL [verified|unverified [RECOVERY_CODE]]]
#include <cstdio>
#include <ctime>
#include <string>

#include "totp/base32.hpp"
#include "totp/recovery.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"

int main(int argc, char** argv) {
    if (argc < 4 || argc > 7) {
        std::fprintf(stderr,
                     "usage: %s STATE_DIR USER SECRET [EMAIL [verified|unverified [RECOVERY]]]\n",
                     argv[0]);
        return 2;
    }
    auto store = totp::make_file_store({argv[1], ""});
    auto record = store->open(argv[2]);
    if (!record) {
        std::fprintf(stderr, "open: %s\n", record.error().message.c_str());
        return 1;
    }
    auto secret = totp::base32_decode(argv[3]);
    if (!secret) {
        std::fprintf(stderr, "secret: %s\n", secret.error().message.c_str());
        return 1;
    }
    totp::Authenticator token;
    token.name = std::string(totp::kDefaultAuthenticatorName);
    token.secret = std::move(*secret);
    totp::UserState state;
    state.authenticators.push_back(std::move(token));
    state.created = static_cast<std::int64_t>(std::time(nullptr));
    if (argc >= 5) {
        state.email = argv[4];
        state.email_verified = argc < 6 || std::string(argv[5]) == "verified";
    }
    if (argc == 7) {
        const auto code = totp::normalize_recovery_code(argv[6]);
        if (!code) {
            std::fprintf(stderr, "not a recovery code: %s\n", argv[6]);
            return 1;
        }
        auto hash = totp::hash_recovery_code(code->view());
        if (!hash) {
            std::fprintf(stderr, "recovery code: %s\n", hash.error().message.c_str());
            return 1;
        }
        state.recovery.push_back(*hash);
    }
    if (auto saved = (*record)->save(state); !saved) {
        std::fprintf(stderr, "save: %s\n", saved.error().message.c_str());
        return 1;
    }
    return 0;
}
