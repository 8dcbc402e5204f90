// SPDX-License-Identifier: Apache-2.0
// The signed double-submit CSRF check on every form.
#include <string>

#include "cmocka.hpp"
#include "csrf.hpp"

namespace {

resetd::CsrfGuard make_guard() {
    auto guard = resetd::CsrfGuard::create();
    assert_true(guard.has_value());
    return std::move(*guard);
}

}  // namespace

static void field_made_for_the_cookie_passes(void**) {
    const resetd::CsrfGuard guard = make_guard();
    const std::string cookie = guard.cookie_for("");
    assert_true(resetd::is_csrf_value(cookie));
    const std::string field = guard.field_for(cookie);
    assert_true(resetd::is_csrf_value(field));
    assert_true(guard.check(cookie, field));
}

static void missing_cookie_or_field_fails(void**) {
    const resetd::CsrfGuard guard = make_guard();
    const std::string cookie = guard.cookie_for("");
    const std::string field = guard.field_for(cookie);
    assert_false(guard.check("", field));
    assert_false(guard.check(cookie, ""));
    assert_false(guard.check("", ""));
}

static void field_for_another_cookie_fails(void**) {
    const resetd::CsrfGuard guard = make_guard();
    const std::string mine = guard.cookie_for("");
    const std::string theirs = guard.cookie_for("");
    assert_true(mine != theirs);
    assert_false(guard.check(mine, guard.field_for(theirs)));
}

static void planted_cookie_with_its_own_value_as_field_fails(void**) {
    // The plain double-submit weakness: an attacker who can set a cookie sends the same
    // value in the field. The field must be the HMAC, which needs the web process's key.
    const resetd::CsrfGuard guard = make_guard();
    const std::string planted(64, 'a');
    assert_false(guard.check(planted, planted));
}

static void field_from_another_process_fails(void**) {
    const resetd::CsrfGuard before_restart = make_guard();
    const resetd::CsrfGuard after_restart = make_guard();
    const std::string cookie = before_restart.cookie_for("");
    assert_false(after_restart.check(cookie, before_restart.field_for(cookie)));
}

static void well_formed_cookie_is_kept_and_malformed_replaced(void**) {
    const resetd::CsrfGuard guard = make_guard();
    const std::string cookie(64, '7');
    assert_true(guard.cookie_for(cookie) == cookie);
    for (const char* bad :
         {"short", "7777777777777777777777777777777777777777777777777777777777777777x",
          "GGGG777777777777777777777777777777777777777777777777777777777777"}) {
        const std::string replaced = guard.cookie_for(bad);
        assert_true(replaced != bad);
        assert_true(resetd::is_csrf_value(replaced));
    }
}

static void altered_field_fails(void**) {
    const resetd::CsrfGuard guard = make_guard();
    const std::string cookie = guard.cookie_for("");
    std::string field = guard.field_for(cookie);
    field[10] = field[10] == '0' ? '1' : '0';
    assert_false(guard.check(cookie, field));
    std::string upper = guard.field_for(cookie);
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'f' ? c - 32 : c);
    assert_false(guard.check(cookie, upper));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(field_made_for_the_cookie_passes),
        cmocka_unit_test(missing_cookie_or_field_fails),
        cmocka_unit_test(field_for_another_cookie_fails),
        cmocka_unit_test(planted_cookie_with_its_own_value_as_field_fails),
        cmocka_unit_test(field_from_another_process_fails),
        cmocka_unit_test(well_formed_cookie_is_kept_and_malformed_replaced),
        cmocka_unit_test(altered_field_fails),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
