// SPDX-License-Identifier: Apache-2.0
// The [reset] keys of totp-resetd: what a good value is, what is refused, and that the
// shipped pam_totp.conf loads with only the required base_url missing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cmocka.hpp"
#include "totp/config.hpp"
#include "totp/mail.hpp"
#include "totp/reset_settings.hpp"

namespace {

using Problems = std::vector<totp::ConfigProblem>;

Problems apply(totp::ResetSettings& settings, std::string_view key, std::string_view value) {
    Problems problems;
    totp::apply_reset_setting(settings, key, value, problems);
    return problems;
}

bool accepted(std::string_view key, std::string_view value) {
    totp::ResetSettings settings;
    return apply(settings, key, value).empty();
}

// Loads `content` as pam_totp.conf the way totp-resetd does: [global], mail, then [reset].
Problems load_as_resetd(const std::string& content, totp::ResetSettings& settings) {
    char pattern[] = "/tmp/totp-reset-settings-XXXXXX";
    assert_non_null(::mkdtemp(pattern));
    const std::string path = std::string(pattern) + "/pam_totp.conf";
    std::ofstream(path) << content;
    ::chmod(path.c_str(), 0644);
    Problems problems;
    totp::Settings global;
    totp::load_config_file(path, false, global, problems);
    totp::MailSettings mail;
    totp::load_mail_settings(path, mail, problems);
    totp::load_reset_settings(path, settings, problems);
    std::filesystem::remove_all(pattern);
    for (const auto& problem : problems) print_message("%s\n", problem.message.c_str());
    return problems;
}

}  // namespace

static void base_url_must_be_https_or_loopback_http(void**) {
    for (const char* good : {"https://reset.example.org/", "https://reset.example.org",
                             "https://example.org:8443/accounts/reset/", "http://127.0.0.1:8787/",
                             "http://localhost/", "http://[::1]:8080/", "https://[2001:db8::1]/"}) {
        assert_true(accepted("base_url", good));
    }
    for (const char* bad :
         {"http://reset.example.org/", "ftp://example.org/", "https://", "example.org",
          "https://user@example.org/", "https://example.org/?next=x", "https://example.org/#x",
          "https://example.org/\"><script>", "https://exa mple.org/", "https://example.org:/",
          "https://example.org:99999/", "https://example.org/\r\nBcc: x"}) {
        totp::ResetSettings settings;
        const Problems problems = apply(settings, "base_url", bad);
        assert_int_equal(problems.size(), 1);
        assert_true(problems[0].security_relevant);
        assert_true(settings.base_url.empty());
    }
}

static void listen_takes_an_address_and_port(void**) {
    assert_true(accepted("listen", "127.0.0.1:8787"));
    assert_true(accepted("listen", "[::1]:8787"));
    for (const char* bad : {"127.0.0.1", "localhost:8787", "127.0.0.1:0", "127.0.0.1:70000",
                            "::1:8787", "[::1]", ""}) {
        assert_false(accepted("listen", bad));
    }
}

static void numbers_are_checked_against_their_ranges(void**) {
    totp::ResetSettings settings;
    assert_true(apply(settings, "token_lifetime", "600").empty());
    assert_int_equal(settings.token_lifetime, 600);
    assert_false(apply(settings, "token_lifetime", "5").empty());
    assert_false(apply(settings, "token_lifetime", "-900").empty());
    assert_false(apply(settings, "max_body", "1000000").empty());
    assert_false(apply(settings, "mails_per_account", "0").empty());
    assert_int_equal(settings.token_lifetime, 600);
}

static void names_and_texts_refuse_control_characters(void**) {
    assert_false(accepted("site_name", "Lab\r\nBcc: x"));
    assert_false(accepted("reset_subject", "Reset\nBcc: x"));
    assert_false(accepted("reset_subject", ""));
    assert_false(accepted("client_ip_header", "X-Real-IP: 1"));
    assert_false(accepted("user", "root:x"));
    assert_false(accepted("template_dir", "relative/dir"));
    assert_false(accepted("chroot_dir", "/run/../etc"));
    assert_true(accepted("chroot_dir", ""));
}

static sockaddr_in6 ipv6_peer(const char* text) {
    sockaddr_in6 peer{};
    peer.sin6_family = AF_INET6;
    assert_int_equal(::inet_pton(AF_INET6, text, &peer.sin6_addr), 1);
    return peer;
}

static void trusted_proxies_take_addresses_and_prefixes_only(void**) {
    assert_true(accepted("trusted_proxies", ""));
    assert_true(accepted("trusted_proxies", "127.0.0.1"));
    assert_true(accepted("trusted_proxies", "10.0.0.0/8, 2001:db8::/32 ::1"));
    assert_false(accepted("trusted_proxies", "10.0.0.0/33"));
    assert_false(accepted("trusted_proxies", "2001:db8::/129"));
    assert_false(accepted("trusted_proxies", "proxy.example.org"));
    assert_false(accepted("trusted_proxies", "10.0.0.1/"));
    assert_false(accepted("trusted_proxies", "10.0.0.1/-1"));
}

static void reset_exclude_groups_default_to_the_groups_as_good_as_root_and_may_be_emptied(void**) {
    totp::ResetSettings settings;
    assert_true(totp::split_names(settings.reset_exclude_groups) ==
                (std::vector<std::string>{"sudo", "wheel", "adm", "root", "docker", "lxd",
                                          "incus-admin", "libvirt", "disk"}));
    assert_true(apply(settings, "reset_exclude_groups", "").empty());
    assert_true(totp::split_names(settings.reset_exclude_groups).empty());
    assert_true(apply(settings, "reset_exclude_groups", "  admins  ops ").empty());
    assert_true(totp::split_names(settings.reset_exclude_groups) ==
                (std::vector<std::string>{"admins", "ops"}));
}

static void reset_exclude_groups_take_group_names_only(void**) {
    assert_false(accepted("reset_exclude_groups", "sudo,wheel"));
    assert_false(accepted("reset_exclude_groups", "sudo\twheel"));
    assert_false(accepted("reset_exclude_groups", "-sudo"));
    assert_false(accepted("reset_exclude_groups", "../etc"));
    totp::ResetSettings settings;
    const Problems problems = apply(settings, "reset_exclude_groups", "sudo;rm");
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
    assert_true(settings.reset_exclude_groups == totp::ResetSettings().reset_exclude_groups);
}

static void a_peer_is_trusted_only_inside_a_listed_prefix(void**) {
    const auto proxies = totp::parse_address_prefixes("10.1.2.0/23 2001:db8:1::/48 127.0.0.1");
    assert_true(proxies.has_value());
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    const auto trusted = [&](const char* text) {
        assert_int_equal(::inet_pton(AF_INET, text, &v4.sin_addr), 1);
        return totp::address_in_prefixes(reinterpret_cast<const sockaddr*>(&v4), *proxies);
    };
    assert_true(trusted("10.1.3.200"));
    assert_false(trusted("10.1.4.1"));
    assert_true(trusted("127.0.0.1"));
    assert_false(trusted("127.0.0.2"));
    const auto trusted6 = [&](const char* text) {
        const sockaddr_in6 peer = ipv6_peer(text);
        return totp::address_in_prefixes(reinterpret_cast<const sockaddr*>(&peer), *proxies);
    };
    assert_true(trusted6("2001:db8:1:ffff::1"));
    assert_false(trusted6("2001:db8:2::1"));
    assert_true(trusted6("::ffff:127.0.0.1"));  // a dual-stack listener's IPv4 peer
    assert_false(trusted6("::1"));
    assert_false(totp::address_in_prefixes(reinterpret_cast<const sockaddr*>(&v4),
                                           *totp::parse_address_prefixes("")));
}

static void mail_keys_are_left_to_the_mail_loader_and_unknown_keys_reported(void**) {
    totp::ResetSettings settings;
    assert_true(apply(settings, "smtp_url", "anything at all").empty());
    const Problems problems = apply(settings, "base_ulr", "https://example.org/");
    assert_int_equal(problems.size(), 1);
    assert_false(problems[0].security_relevant);
}

static void shipped_file_uncommented_lacks_only_base_url(void**) {
    if (::geteuid() != 0) skip();  // the loader insists on a root-owned file
    std::ifstream shipped(std::filesystem::path(__FILE__).parent_path() /
                          "../../config/pam_totp.conf");
    assert_true(shipped.good());
    std::string content;
    for (std::string line; std::getline(shipped, line);) {
        if (line.starts_with('#') && line.find(" =") != std::string::npos &&
            line.find(' ') == line.find(" =")) {
            line.erase(0, 1);
        }
        content += line + "\n";
    }
    char pattern[] = "/tmp/totp-reset-settings-XXXXXX";
    assert_non_null(::mkdtemp(pattern));
    const std::string path = std::string(pattern) + "/pam_totp.conf";
    std::ofstream(path) << content;
    ::chmod(path.c_str(), 0644);

    totp::ResetSettings settings;
    Problems problems;
    totp::load_reset_settings(path, settings, problems);
    std::filesystem::remove_all(pattern);
    for (const auto& problem : problems) print_message("%s\n", problem.message.c_str());
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].message.find("base_url is not set") != std::string::npos);
    const totp::ResetSettings defaults;
    assert_int_equal(settings.token_lifetime, defaults.token_lifetime);
    assert_true(settings.listen == defaults.listen);
    assert_true(settings.reset_subject == defaults.reset_subject);
}

static void correct_global_keys_are_not_flagged_by_the_reset_service(void**) {
    if (::geteuid() != 0) skip();
    totp::ResetSettings settings;
    const Problems problems = load_as_resetd(
        "[global]\nnullok = no\nwindow = 2\nissuer = Example\n"
        "[reset]\nbase_url = https://reset.example.org/\nsmtp_url = smtp://mail.example.org\n",
        settings);
    assert_true(problems.empty());
    assert_true(settings.base_url == "https://reset.example.org/");
}

// One line per problem, even though three loaders read the file.
static void global_key_in_reset_section_stops_the_reset_service_once(void**) {
    if (::geteuid() != 0) skip();
    totp::ResetSettings settings;
    const Problems problems = load_as_resetd(
        "[global]\n[reset]\nbase_url = https://reset.example.org/\nnullok = no\n", settings);
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
    assert_true(problems[0].message.find("'nullok'") != std::string::npos);
    assert_true(problems[0].message.find("[reset]") != std::string::npos);
    assert_true(problems[0].message.find("line 4") != std::string::npos);
}

// An exclusion the admin wrote in the wrong section must not silently fall back to the
// default list (or to none).
static void reset_exclude_groups_in_global_stops_the_reset_service(void**) {
    if (::geteuid() != 0) skip();
    totp::ResetSettings settings;
    const Problems problems = load_as_resetd(
        "[global]\nreset_exclude_groups = admins\n[reset]\nbase_url = https://reset.example.org/\n",
        settings);
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
    assert_true(problems[0].message.find("'reset_exclude_groups'") != std::string::npos);
}

static void unknown_reset_key_in_file_stops_the_reset_service(void**) {
    if (::geteuid() != 0) skip();
    totp::ResetSettings settings;
    const Problems problems = load_as_resetd(
        "[reset]\nbase_url = https://reset.example.org/\ntoken_lifetme = 60\n", settings);
    assert_int_equal(problems.size(), 1);
    assert_true(problems[0].security_relevant);
    assert_true(problems[0].message.find("'token_lifetme'") != std::string::npos);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base_url_must_be_https_or_loopback_http),
        cmocka_unit_test(listen_takes_an_address_and_port),
        cmocka_unit_test(numbers_are_checked_against_their_ranges),
        cmocka_unit_test(names_and_texts_refuse_control_characters),
        cmocka_unit_test(trusted_proxies_take_addresses_and_prefixes_only),
        cmocka_unit_test(
            reset_exclude_groups_default_to_the_groups_as_good_as_root_and_may_be_emptied),
        cmocka_unit_test(reset_exclude_groups_take_group_names_only),
        cmocka_unit_test(a_peer_is_trusted_only_inside_a_listed_prefix),
        cmocka_unit_test(mail_keys_are_left_to_the_mail_loader_and_unknown_keys_reported),
        cmocka_unit_test(shipped_file_uncommented_lacks_only_base_url),
        cmocka_unit_test(correct_global_keys_are_not_flagged_by_the_reset_service),
        cmocka_unit_test(global_key_in_reset_section_stops_the_reset_service_once),
        cmocka_unit_test(reset_exclude_groups_in_global_stops_the_reset_service),
        cmocka_unit_test(unknown_reset_key_in_file_stops_the_reset_service),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
