// SPDX-License-Identifier: Apache-2.0
// The whole reset in a real browser (Debian chromium driven by playwright-core), the way a
// user on a phone does it: ask for a link, open it from the mail, type the new password
// twice and the code from the authenticator app, see the success page.
//
//   node browser_flow.cjs --base URL --mail DIR --user NAME --email ADDRESS --password NEW
//        --secret BASE32 --state STATE_FILE --code-helper totp-code --screenshot PNG
//        --profile DIR
//
// Prints "ok - ..." per step; exits 1 at the first step that fails.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

function parseArguments(argv) {
  const options = {};
  for (let i = 2; i < argv.length; i += 2) options[argv[i].replace(/^--/, '')] = argv[i + 1];
  return options;
}

const options = parseArguments(process.argv);
let passed = 0;

function ok(name, condition, detail) {
  if (!condition) {
    console.log(`FAIL - ${name}`);
    if (detail !== undefined) console.log(`    ${detail}`);
    console.log(`${passed} passed, 1 failed`);
    process.exit(1);
  }
  passed += 1;
  console.log(`ok - ${name}`);
}

async function linkFromMail(address, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    for (const file of fs.readdirSync(options.mail).filter((name) => name.endsWith('.json'))) {
      const mail = JSON.parse(fs.readFileSync(path.join(options.mail, file), 'utf8'));
      const match = /(\S+\/reset\?token=[0-9a-f.]+)/.exec(mail.text);
      if (mail.rcpt_tos.includes(address) && match) return match[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

async function heading(page) {
  return (await page.locator('h1').textContent()).trim();
}

(async () => {
  const context = await chromium.launchPersistentContext(options.profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  // Error statuses of our own pages (400 for a used link) and Chromium's favicon request
  // show up as "Failed to load resource"; anything else, CSP refusals above all, counts.
  const problems = [];
  context.on('weberror', (error) => problems.push(String(error.error())));
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (message) => {
      const text = message.text();
      if (message.type() === 'error' && !text.startsWith('Failed to load resource')) problems.push(text);
    });

    await page.goto(options.base);
    ok('the start page asks for the user name', (await heading(page)) === 'Reset your password');
    const maxWidth = await page.evaluate(() => getComputedStyle(document.querySelector('main')).maxWidth);
    ok('the stylesheet loads under the Content-Security-Policy', maxWidth === '480px', maxWidth);

    await page.fill('#user', options.user);
    await page.click('button[type=submit]');
    await page.waitForLoadState();
    ok('asking for a link shows the neutral confirmation', (await heading(page)) === 'Check your email');

    const link = await linkFromMail(options.email, 30);
    ok('the link arrives by mail', link !== null);
    ok('the link starts with base_url', link.startsWith(`${options.base}reset?token=`), link);

    await page.goto(link);
    ok('the link opens the new-password form', (await heading(page)) === 'Choose a new password');
    const account = (await page.locator('.account').textContent()).trim();
    ok('the form names the account', account === `Account: ${options.user}`, account);

    await page.fill('#password', options.password);
    await page.fill('#repeat', options.password);
    await page.screenshot({ path: options.screenshot.replace(/\.png$/, '-form.png'), fullPage: true });
    const code = execFileSync(options['code-helper'], [options.secret, options.state]).toString().trim();
    await page.fill('#code', code);
    await page.click('button[type=submit]');
    await page.waitForLoadState();
    const done = await heading(page);
    ok('the new password and the code change the password', done === 'Your password was changed', done);
    await page.screenshot({ path: options.screenshot, fullPage: true });
    ok('the success page was saved', fs.statSync(options.screenshot).size > 1000, options.screenshot);

    await page.goto(link);
    ok('the link does not work twice', (await heading(page)) === 'This link cannot be used');
    ok('the browser reported no errors (CSP, console)', problems.length === 0, problems.join(' | '));
  } finally {
    await context.close();
  }
  console.log(`${passed} passed, 0 failed`);
})().catch((error) => {
  console.log(`FAIL - the browser flow stopped: ${error.stack || error}`);
  console.log(`${passed} passed, 1 failed`);
  process.exit(1);
});
