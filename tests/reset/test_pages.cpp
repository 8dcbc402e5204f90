// SPDX-License-Identifier: Apache-2.0
// Pages and mail texts: what comes from a request or a user is escaped, templates are
// read only from safe files.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cmocka.hpp"
#include "mail_texts.hpp"
#include "pages.hpp"

namespace {

const resetd::Site kSite{"Lab <b>", 15};

bool contains(const totp::SecretString& text, std::string_view needle) {
    return text.view().find(needle) != std::string_view::npos;
}

}  // namespace

static void reset_form_escapes_what_it_echoes(void**) {
    resetd::ResetForm form;
    form.token = "abc\"><script>";
    form.csrf_field = "f";
    form.user = "<img src=x>";
    form.problem = resetd::ResetProblem::password_refused;
    form.policy_messages = {"BAD PASSWORD: <b>short</b>"};
    const resetd::Page page = resetd::reset_form(kSite, form);
    assert_int_equal(page.status, 400);
    assert_false(contains(page.html, "<img"));
    assert_false(contains(page.html, "<script>"));
    assert_false(contains(page.html, "<b>"));
    assert_true(contains(page.html, "&lt;img src=x&gt;"));
    assert_true(contains(page.html, "BAD PASSWORD: &lt;b&gt;short&lt;/b&gt;"));
    assert_true(contains(page.html, "Lab &lt;b&gt;"));
}

// A refused password says what became of the code: unused after the pre-check, used up when
// PAM refused after it.
static void a_refused_password_says_whether_the_code_was_used(void**) {
    resetd::ResetForm form;
    form.token = "t";
    form.csrf_field = "f";
    form.user = "alice";
    form.policy_messages = {"BAD PASSWORD: it is too short"};
    form.problem = resetd::ResetProblem::password_refused;
    const resetd::Page unused = resetd::reset_form(kSite, form);
    assert_true(contains(unused.html, "Your code was not used"));
    assert_false(contains(unused.html, "used up"));
    form.problem = resetd::ResetProblem::password_refused_code_used;
    const resetd::Page used = resetd::reset_form(kSite, form);
    assert_int_equal(used.status, 400);
    assert_true(contains(used.html, "The code you entered was used up"));
    assert_true(contains(used.html, "BAD PASSWORD: it is too short"));
}

static void every_form_carries_the_csrf_field(void**) {
    const resetd::Page request = resetd::request_form(kSite, "0123abcd");
    assert_true(contains(request.html, "name=\"csrf\" value=\"0123abcd\""));
    resetd::ResetForm form;
    form.token = "t";
    form.csrf_field = "feedbeef";
    form.user = "alice";
    const resetd::Page reset = resetd::reset_form(kSite, form);
    assert_int_equal(reset.status, 200);
    assert_true(contains(reset.html, "name=\"csrf\" value=\"feedbeef\""));
}

static void pages_use_no_inline_script_or_style(void**) {
    resetd::ResetForm form;
    const resetd::Page pages[] = {
        resetd::request_form(kSite, "x"), resetd::request_sent(kSite),
        resetd::reset_form(kSite, form),  resetd::password_changed(kSite),
        resetd::link_invalid(kSite),      resetd::too_many_requests(kSite),
        resetd::form_expired(kSite, ""),  resetd::server_error(kSite),
        resetd::http_error(kSite, 404),
    };
    for (const resetd::Page& page : pages) {
        assert_false(contains(page.html, "<script"));
        assert_false(contains(page.html, "style="));
        assert_false(contains(page.html, "<style"));
        assert_true(contains(page.html, "href=\"style.css\""));
    }
}

static void render_escapes_values_in_html_only(void**) {
    const resetd::Placeholders values = {{"user", "a<b"}, {"link", "https://x/?a=1&b=2"}};
    const std::string text(resetd::render("{user} {link} {unknown}", values, false).view());
    assert_string_equal(text.c_str(), "a<b https://x/?a=1&b=2 {unknown}");
    const std::string html(resetd::render("<p>{user}</p><a href=\"{link}\">", values, true).view());
    assert_string_equal(html.c_str(), "<p>a&lt;b</p><a href=\"https://x/?a=1&amp;b=2\">");
}

static void templates_are_read_only_from_safe_files(void**) {
    if (::geteuid() != 0) skip();  // templates must be owned by root
    char pattern[] = "/tmp/totp-resetd-templates-XXXXXX";
    assert_non_null(::mkdtemp(pattern));
    const std::string dir = pattern;
    { std::ofstream(dir + "/reset.txt") << "Custom {link}\n"; }
    ::chmod((dir + "/reset.txt").c_str(), 0644);
    auto texts = resetd::load_mail_texts(dir);
    assert_true(texts.ok());
    assert_string_equal(texts->reset.text.c_str(), "Custom {link}\n");
    assert_true(texts->changed.text == resetd::builtin_mail_texts().changed.text);

    ::chmod((dir + "/reset.txt").c_str(), 0664);
    assert_false(resetd::load_mail_texts(dir).ok());
    ::chmod((dir + "/reset.txt").c_str(), 0644);

    std::filesystem::create_symlink(dir + "/reset.txt", dir + "/changed.txt");
    assert_false(resetd::load_mail_texts(dir).ok());
    std::filesystem::remove(dir + "/changed.txt");

    { std::ofstream(dir + "/changed.html") << "\xff\xfe not text"; }
    ::chmod((dir + "/changed.html").c_str(), 0644);
    assert_false(resetd::load_mail_texts(dir).ok());
    std::filesystem::remove_all(dir);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reset_form_escapes_what_it_echoes),
        cmocka_unit_test(a_refused_password_says_whether_the_code_was_used),
        cmocka_unit_test(every_form_carries_the_csrf_field),
        cmocka_unit_test(pages_use_no_inline_script_or_style),
        cmocka_unit_test(render_escapes_values_in_html_only),
        cmocka_unit_test(templates_are_read_only_from_safe_files),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
