// SPDX-License-Identifier: Apache-2.0
#include "pages.hpp"

#include "html.hpp"

namespace resetd {
namespace {

// Page text is written here and inserted raw; anything from a request or the configuration
// goes through text().
class Builder {
  public:
    Builder& raw(std::string_view html) {
        out_.append(html);
        return *this;
    }
    Builder& text(std::string_view text) {
        append_html_escaped(out_, text);
        return *this;
    }
    Builder& number(int value) { return raw(std::to_string(value)); }
    totp::SecretString take() { return std::move(out_); }

  private:
    totp::SecretString out_;
};

template <class Body>
Page layout(const Site& site, unsigned status, std::string_view title, Body body) {
    Builder page;
    page.raw("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .raw("<meta name=\"robots\" content=\"noindex\">\n<title>")
        .text(title)
        .raw(" – ")
        .text(site.name)
        .raw("</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n<body>\n<main>\n")
        .raw("<p class=\"site\">")
        .text(site.name)
        .raw("</p>\n<h1>")
        .text(title)
        .raw("</h1>\n");
    body(page);
    page.raw("</main>\n</body>\n</html>\n");
    return Page{status, page.take()};
}

void start_again(Builder& page, std::string_view label = "Start again") {
    page.raw("<p><a class=\"button secondary\" href=\"./\">").text(label).raw("</a></p>\n");
}

void hidden(Builder& page, std::string_view name, std::string_view value) {
    page.raw("<input type=\"hidden\" name=\"")
        .raw(name)
        .raw("\" value=\"")
        .text(value)
        .raw("\">\n");
}

void policy_messages(Builder& page, const ResetForm& form) {
    page.raw("<p>The new password was not accepted:</p>\n<ul>\n");
    for (const std::string& message : form.policy_messages) {
        page.raw("<li>").text(message).raw("</li>\n");
    }
    page.raw("</ul>\n");
}

void problem_box(Builder& page, const ResetForm& form) {
    if (form.problem == ResetProblem::none) return;
    page.raw("<div class=\"problem\" role=\"alert\" id=\"problem\">\n");
    switch (form.problem) {
        case ResetProblem::passwords_differ:
            page.raw("<p>The two passwords do not match. Type the new password twice.</p>\n");
            break;
        case ResetProblem::code_wrong:
            page.raw(
                "<p>That code is not correct, or it was already used. Wait for the next code "
                "in your authenticator app and try again.</p>\n");
            break;
        case ResetProblem::code_locked:
            page.raw(
                "<p>Too many wrong codes. Codes are refused for a few minutes; wait, then try "
                "again with a new code.</p>\n");
            break;
        case ResetProblem::password_refused:
            policy_messages(page, form);
            page.raw(
                "<p>Choose a longer password that is not based on a word. Your code was not "
                "used: you can enter it again, or the newest one from your app.</p>\n");
            break;
        case ResetProblem::password_refused_code_used:
            policy_messages(page, form);
            page.raw(
                "<p>Choose a longer password that is not based on a word. The code you "
                "entered was used up: enter a new code from your app, or another recovery "
                "code.</p>\n");
            break;
        case ResetProblem::none:
            break;
    }
    page.raw("</div>\n");
}

}  // namespace

std::string_view stylesheet() {
    return R"css(:root {
  color-scheme: light dark;
  --text: #1b1b1f; --muted: #55565c; --back: #f6f6f8; --card: #ffffff;
  --line: #c9cad1; --accent: #1f5fbf; --accent-text: #ffffff;
  --problem: #a4161a; --problem-back: #fdeeee;
}
@media (prefers-color-scheme: dark) {
  :root {
    --text: #ececf1; --muted: #b2b3bb; --back: #17181c; --card: #22242a;
    --line: #4a4c55; --accent: #7fb0ff; --accent-text: #0c1424;
    --problem: #ffb3b3; --problem-back: #3a1d1f;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { font-size: 100%; }
body {
  margin: 0; padding: 1rem; background: var(--back); color: var(--text);
  font: 1.0625rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
main {
  max-width: 30rem; margin: 2rem auto; padding: 1.5rem; background: var(--card);
  border: 1px solid var(--line); border-radius: 0.75rem;
}
.site { margin: 0; color: var(--muted); font-size: 0.9375rem; }
h1 { margin: 0.25rem 0 1rem; font-size: 1.5rem; line-height: 1.25; }
p, ul { margin: 0 0 1rem; }
label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
.hint { margin: 0.25rem 0 0; color: var(--muted); font-size: 0.9375rem; }
input[type=text], input[type=password] {
  display: block; width: 100%; padding: 0.7rem 0.75rem; font: inherit; color: inherit;
  background: var(--card); border: 1px solid var(--line); border-radius: 0.5rem;
}
input:focus, a:focus, button:focus { outline: 3px solid var(--accent); outline-offset: 2px; }
button, .button {
  display: inline-block; margin-top: 1.5rem; padding: 0.75rem 1.25rem; font: inherit;
  font-weight: 600; color: var(--accent-text); background: var(--accent); border: 0;
  border-radius: 0.5rem; cursor: pointer; text-decoration: none; width: 100%;
  text-align: center;
}
.button.secondary {
  color: var(--accent); background: transparent; border: 1px solid var(--accent);
}
a { color: var(--accent); }
.account { padding: 0.5rem 0.75rem; background: var(--back); border-radius: 0.5rem; }
.problem {
  margin: 0 0 1rem; padding: 0.75rem 1rem; color: var(--problem);
  background: var(--problem-back); border-left: 4px solid var(--problem); border-radius: 0.25rem;
}
.problem p:last-child, .problem ul:last-child { margin-bottom: 0; }
.done { font-size: 1.125rem; }
@media (max-width: 30rem) {
  body { padding: 0; }
  main { margin: 0; min-height: 100vh; border: 0; border-radius: 0; }
}
)css";
}

Page request_form(const Site& site, std::string_view csrf_field) {
    return layout(site, 200, "Reset your password", [&](Builder& page) {
        page.raw(
                "<p>Forgot your password? Enter your user name. If the account has a verified "
                "email address, a link to choose a new password is sent there.</p>\n"
                "<p>To set the new password you will also need your authenticator app "
                "(or a recovery code).</p>\n"
                "<form method=\"post\" action=\"request\">\n")
            .raw("<label for=\"user\">User name</label>\n")
            .raw("<input type=\"text\" id=\"user\" name=\"user\" required maxlength=\"256\" ")
            .raw("autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\">\n");
        hidden(page, "csrf", csrf_field);
        page.raw("<button type=\"submit\">Send reset link</button>\n</form>\n");
    });
}

Page request_sent(const Site& site) {
    return layout(site, 200, "Check your email", [&](Builder& page) {
        page.raw(
                "<p class=\"done\">If the account exists and has a verified email address, a "
                "link to reset its password is on its way.</p>\n<p>The link works once and "
                "expires after ")
            .number(site.token_minutes)
            .raw(
                " minutes. Open it on any device; you will need the code from your "
                "authenticator app.</p>\n<p>No mail after a few minutes? Look in your spam "
                "folder. Accounts without a verified email address cannot be reset here: ask "
                "your administrator.</p>\n");
        start_again(page);
    });
}

Page reset_form(const Site& site, const ResetForm& form) {
    return layout(site, form.problem == ResetProblem::none ? 200 : 400, "Choose a new password",
                  [&](Builder& page) {
                      problem_box(page, form);
                      page.raw("<p class=\"account\">Account: <strong>")
                          .text(form.user)
                          .raw("</strong></p>\n<form method=\"post\" action=\"reset\">\n");
                      // Lets password managers file the new password under the account.
                      page.raw("<input type=\"text\" name=\"username\" value=\"")
                          .text(form.user)
                          .raw("\" autocomplete=\"username\" hidden>\n")
                          .raw("<label for=\"password\">New password</label>\n")
                          .raw("<input type=\"password\" id=\"password\" name=\"password\" ")
                          .raw("required maxlength=\"512\" autocomplete=\"new-password\">\n")
                          .raw("<label for=\"repeat\">New password again</label>\n")
                          .raw("<input type=\"password\" id=\"repeat\" name=\"repeat\" ")
                          .raw("required maxlength=\"512\" autocomplete=\"new-password\">\n")
                          .raw("<label for=\"code\">Verification code</label>\n")
                          .raw("<input type=\"text\" id=\"code\" name=\"code\" required ")
                          .raw("maxlength=\"64\" autocomplete=\"one-time-code\" ")
                          .raw("autocapitalize=\"none\" spellcheck=\"false\" ")
                          .raw("aria-describedby=\"code-hint\">\n")
                          .raw("<p class=\"hint\" id=\"code-hint\">The current code from your ")
                          .raw("authenticator app, or one of your recovery codes.</p>\n");
                      hidden(page, "token", form.token);
                      hidden(page, "csrf", form.csrf_field);
                      page.raw("<button type=\"submit\">Change password</button>\n</form>\n");
                  });
}

Page password_changed(const Site& site) {
    return layout(site, 200, "Your password was changed", [&](Builder& page) {
        page.raw(
            "<p class=\"done\">Log in with your new password and the code from your "
            "authenticator app, as before.</p>\n<p>A confirmation was sent to your email "
            "address. The link you used no longer works. You can close this page.</p>\n");
    });
}

Page link_invalid(const Site& site) {
    return layout(site, 400, "This link cannot be used", [&](Builder& page) {
        page.raw("<p>Reset links work only once and expire after ")
            .number(site.token_minutes)
            .raw(
                " minutes; a password change also ends every other link. Make sure you "
                "opened the newest link, or ask for a new one.</p>\n");
        start_again(page, "Ask for a new link");
    });
}

Page too_many_requests(const Site& site) {
    return layout(site, 429, "Too many attempts", [&](Builder& page) {
        page.raw(
            "<p>There were too many attempts from your network. Wait an hour, then try "
            "again.</p>\n<p>If you cannot wait, ask your administrator to reset your "
            "password.</p>\n");
    });
}

Page form_expired(const Site& site, std::string_view token) {
    return layout(site, 403, "This form has expired", [&](Builder& page) {
        page.raw(
            "<p>For your security a form can only be sent from the page that showed it, and "
            "only while that page is fresh. Nothing was changed.</p>\n");
        if (token.empty()) {
            start_again(page);
        } else {
            page.raw("<p><a class=\"button secondary\" href=\"reset?token=")
                .text(token)
                .raw("\">Open the form again</a></p>\n");
        }
    });
}

Page server_error(const Site& site) {
    return layout(site, 500, "Something went wrong", [&](Builder& page) {
        page.raw(
            "<p>The server could not finish this. Nothing was changed. Try again in a few "
            "minutes; if it keeps happening, tell your administrator.</p>\n");
        start_again(page);
    });
}

Page http_error(const Site& site, unsigned status) {
    std::string_view title = "Not found";
    std::string_view text = "There is no page at this address.";
    switch (status) {
        case 405:
            title = "Not allowed";
            text = "This page cannot be used that way.";
            break;
        case 411:
        case 413:
            title = "Form too large";
            text = "What was sent is larger than these forms can be.";
            break;
        case 415:
            title = "Unsupported form";
            text = "The form was sent in a format this service does not read.";
            break;
        case 400:
            title = "Bad request";
            text = "The form could not be read.";
            break;
        case 503:
            title = "Service unavailable";
            text = "The service is restarting. Nothing was changed; try again in a minute.";
            break;
        default:
            break;
    }
    return layout(site, status, title, [&](Builder& page) {
        page.raw("<p>").raw(text).raw("</p>\n");
        start_again(page);
    });
}

}  // namespace resetd
