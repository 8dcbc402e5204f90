// SPDX-License-Identifier: Apache-2.0
// The pam_totp demo login: after demo/run-demo.sh has enrolled the demo user with
// totp-enroll (which showed the QR code to scan), logs in through the built pam_totp.so
// exactly as a login program would (pam_start, pam_authenticate, pam_end), asking for
// the password and the code.
//
// Run by demo/run-demo.sh, which sets up pam_wrapper and nss_wrapper. Modes:
//   demo_login STATE_DIR SERVICE            interactive (a person types password and code)
//   demo_login STATE_DIR SERVICE --auto     the demo computes the current code itself,
//                                           from the secret in the demo's state file
//   demo_login STATE_DIR SERVICE --auto --wrong-code   and expects to be refused
#include <security/pam_appl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "totp/clock.hpp"
#include "totp/otp.hpp"
#include "totp/store.hpp"

namespace {

constexpr const char* kUser = "demo";
constexpr const char* kPassword = "demo-password";

struct Answers {
    bool automatic = false;
    bool wrong_code = false;
    totp::SecretBytes secret;
    totp::OtpParams params;
};

std::string read_hidden_line(const char* prompt) {
    std::fputs(prompt, stdout);
    std::fflush(stdout);
    termios saved{};
    const bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::fputs("\n", stdout);
    }
    return line;
}

std::string automatic_answer(std::string_view prompt, const Answers& answers) {
    if (prompt.find("assword") != std::string_view::npos) return kPassword;
    const totp::SystemClock clock;
    auto code = totp::hotp(answers.secret, totp::time_step(clock.now(), answers.params.period),
                           answers.params.algorithm, answers.params.digits);
    if (!code) return "";
    std::string text(code->view());
    if (answers.wrong_code) text[0] = text[0] == '9' ? '0' : static_cast<char>(text[0] + 1);
    return text;
}

int converse(int count, const pam_message** messages, pam_response** responses, void* data) {
    const auto* answers = static_cast<const Answers*>(data);
    auto* replies = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const pam_message* message = messages[i];
        if (message->msg_style == PAM_ERROR_MSG || message->msg_style == PAM_TEXT_INFO) {
            std::printf("%s\n", message->msg);
            continue;
        }
        std::string answer;
        if (answers->automatic) {
            answer = automatic_answer(message->msg, *answers);
            std::printf("%s%s\n", message->msg, "(typed by the demo)");
        } else {
            answer = read_hidden_line(message->msg);
        }
        replies[i].resp = strdup(answer.c_str());
        totp::wipe(answer);
    }
    *responses = replies;
    return PAM_SUCCESS;
}

// The automatic mode types the code a phone would show: read the enrolled secret back.
bool load_demo_secret(const std::string& state_dir, Answers& answers) {
    auto store = totp::make_file_store({.state_dir = state_dir, .secret_path = ""});
    auto record = store->open(kUser);
    if (!record || !(*record)->state()) {
        std::fprintf(stderr, "demo: %s\n",
                     record ? "the demo user is not enrolled" : record.error().message.c_str());
        return false;
    }
    const totp::Authenticator& token = (*record)->state()->authenticators.front();
    answers.secret = token.secret.clone();
    answers.params = token.params;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: demo_login STATE_DIR SERVICE [--auto] [--wrong-code]\n");
        return 2;
    }
    Answers answers;
    for (int i = 3; i < argc; ++i) {
        const std::string_view option = argv[i];
        if (option == "--auto")
            answers.automatic = true;
        else if (option == "--wrong-code")
            answers.wrong_code = true;
        else {
            std::fprintf(stderr, "demo_login: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (answers.automatic && !load_demo_secret(argv[1], answers)) return 1;
    std::printf("Logging in as '%s' (password: %s) through pam_totp.so\n", kUser, kPassword);

    const pam_conv conversation{converse, &answers};
    pam_handle_t* pamh = nullptr;
    if (pam_start(argv[2], kUser, &conversation, &pamh) != PAM_SUCCESS) {
        std::fprintf(stderr, "demo: pam_start failed\n");
        return 1;
    }
    const int rc = pam_authenticate(pamh, 0);
    std::printf("\n%s (%s)\n",
                rc == PAM_SUCCESS ? "Login succeeded: password and verification code accepted."
                                  : "Login refused.",
                pam_strerror(pamh, rc));
    pam_end(pamh, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}
