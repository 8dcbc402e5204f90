// SPDX-License-Identifier: Apache-2.0
// The bounded urlencoded parser that reads every form body the web process receives.
#include <string>

#include "cmocka.hpp"
#include "form.hpp"

namespace {

using resetd::FormLimits;
using resetd::parse_form;

}  // namespace

static void fields_are_percent_and_plus_decoded(void**) {
    const auto form = parse_form("user=al%69ce+x&password=p%26ss%3Dw%C3%B6rd&empty=&bare");
    assert_true(form.has_value());
    assert_true(form->value("user") == "alice x");
    assert_true(form->value("password") == "p&ss=w\xc3\xb6rd");
    assert_non_null(form->find("empty"));
    assert_true(form->value("empty").empty());
    assert_non_null(form->find("bare"));
    assert_null(form->find("missing"));
    assert_true(form->value("missing").empty());
}

static void empty_body_and_empty_pairs_are_accepted(void**) {
    assert_true(parse_form("").has_value());
    const auto form = parse_form("&&a=1&&b=2&");
    assert_true(form.has_value());
    assert_true(form->value("a") == "1");
    assert_true(form->value("b") == "2");
}

static void bad_escapes_are_refused(void**) {
    for (const char* body : {"a=%", "a=%4", "a=%zz", "a=%4g", "a=x%"}) {
        assert_false(parse_form(body).has_value());
    }
}

static void decoded_nul_is_refused(void**) {
    assert_false(parse_form("password=abc%00def").has_value());
}

static void header_breaking_characters_survive_only_as_data(void**) {
    // CR/LF decode fine (passwords may hold anything); what consumes them checks them.
    const auto form = parse_form("user=alice%0d%0aBcc%3a+evil%40example.org");
    assert_true(form.has_value());
    assert_true(form->value("user") == "alice\r\nBcc: evil@example.org");
}

static void duplicate_names_are_refused(void**) {
    // A second "token" must not be able to shadow the first one.
    assert_false(parse_form("token=a&token=b").has_value());
}

static void names_outside_the_alphabet_are_refused(void**) {
    for (const char* body : {"User=x", "a%62=x", "a-b=x", "=x", "\xc3\xa9=x", "a b=x"}) {
        assert_false(parse_form(body).has_value());
    }
}

static void limits_are_enforced(void**) {
    const FormLimits limits{3, 8, 10};
    assert_true(parse_form("a=1&b=2&c=3", limits).has_value());
    assert_false(parse_form("a=1&b=2&c=3&d=4", limits).has_value());
    assert_true(parse_form("abcdefgh=1", limits).has_value());
    assert_false(parse_form("abcdefghi=1", limits).has_value());
    assert_true(parse_form("a=0123456789", limits).has_value());
    assert_false(parse_form("a=0123456789x", limits).has_value());
    // The limit applies to decoded bytes: 10 escapes decode to 10 bytes.
    assert_true(parse_form("a=%41%41%41%41%41%41%41%41%41%41", limits).has_value());
    assert_false(parse_form("a=%41%41%41%41%41%41%41%41%41%41%41", limits).has_value());
}

static void huge_input_is_refused_without_exhausting_memory(void**) {
    const std::string body = "a=" + std::string(1 << 20, 'x');
    assert_false(parse_form(body).has_value());
    std::string many;
    for (int i = 0; i < 100000; ++i) many += "&";
    many += "a=1";
    assert_true(parse_form(many).has_value());
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_are_percent_and_plus_decoded),
        cmocka_unit_test(empty_body_and_empty_pairs_are_accepted),
        cmocka_unit_test(bad_escapes_are_refused),
        cmocka_unit_test(decoded_nul_is_refused),
        cmocka_unit_test(header_breaking_characters_survive_only_as_data),
        cmocka_unit_test(duplicate_names_are_refused),
        cmocka_unit_test(names_outside_the_alphabet_are_refused),
        cmocka_unit_test(limits_are_enforced),
        cmocka_unit_test(huge_input_is_refused_without_exhausting_memory),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
