// SPDX-License-Identifier: Apache-2.0
// Sends one mail through totp::send_mail with the [reset] settings of a config file, for
// test_smtp_delivery.py.
//
//   mail_send_driver CONFIG TO SUBJECT TEXT_FILE HTML_FILE|- UNIX_TIME
//
// Exit status: 0 sent, 1 send_mail failed, 2 the config had problems, 3 bad usage.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "totp/mail.hpp"

namespace {

std::optional<std::string> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s CONFIG TO SUBJECT TEXT_FILE HTML_FILE|- UNIX_TIME\n",
                     argv[0]);
        return 3;
    }
    totp::MailSettings settings;
    std::vector<totp::ConfigProblem> problems;
    totp::load_mail_settings(argv[1], settings, problems);
    for (const auto& problem : problems)
        std::fprintf(stderr, "config: %s\n", problem.message.c_str());
    if (!problems.empty()) return 2;

    totp::MailMessage message;
    message.to = argv[2];
    message.subject = argv[3];
    const auto text = read_file(argv[4]);
    const auto html =
        std::string(argv[5]) == "-" ? std::optional<std::string>("") : read_file(argv[5]);
    if (!text || !html) {
        std::fprintf(stderr, "cannot read a body file\n");
        return 3;
    }
    message.text_body = *text;
    message.html_body = *html;

    const totp::Status sent =
        totp::send_mail(settings, message, std::strtoll(argv[6], nullptr, 10));
    if (!sent) {
        std::fprintf(stderr, "send_mail: %s\n", sent.error().message.c_str());
        return 1;
    }
    return 0;
}
