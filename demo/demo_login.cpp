// The pam_totp demo: enrolls a demo user in a private sandbox, shows the QR code to scan,
// then logs in through the built pam_totp.so exactly as a login program would
// (pam_start, pam_authenticate, pam_end), asking for the password and the code.
//
// Run by demo/run-demo.sh, which sets up pam_wrapper and nss_wrapper. Modes:
//   demo_login STATE_DIR SERVICE            interactive (a person types password and code)
//   demo_login STATE_DIR SERVICE --auto     the demo computes the current code itself
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

#include "terminal_qr.hpp"
#include "totp/base32.hpp"
#include "totp/clock.hpp"
#include "totp/otp.hpp"
#include "totp/otpauth_uri.hpp"
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

bool enroll_demo_user(const std::string& state_dir, Answers& answers) {
    totp::UserState state;
    state.params = answers.params;
    state.secret = totp::SecretBytes(20);
    if (!totp::random_bytes(state.secret.data(), state.secret.size())) return false;
    state.created = totp::SystemClock().now();
    auto store = totp::make_file_store({.state_dir = state_dir, .secret_path = ""});
    auto record = store->open(kUser);
    if (!record) {
        std::fprintf(stderr, "demo: %s\n", record.error().message.c_str());
        return false;
    }
    if (const totp::Status saved = (*record)->save(state); !saved) {
        std::fprintf(stderr, "demo: %s\n", saved.error().message.c_str());
        return false;
    }
    answers.secret = state.secret.clone();
    return true;
}

void show_enrollment(const Answers& answers) {
    const totp::SecretString uri = totp::build_key_uri(
        {.issuer = "pam_totp demo", .account = kUser, .params = answers.params}, answers.secret);
    const totp::SecretString secret = totp::base32_encode(answers.secret.span());
    std::printf(
        "Scan this with your authenticator app (Google Authenticator, FreeOTP, Aegis...):\n\n");
    if (auto qr = totp_enroll::render_qr(uri.view(), totp_enroll::QrStyle::utf8)) {
        std::fputs(qr->c_str(), stdout);
    }
    std::printf("\n%s\nSecret: %s\n\n", std::string(uri.view()).c_str(), secret.c_str());
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
    if (!enroll_demo_user(argv[1], answers)) return 1;
    show_enrollment(answers);
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
