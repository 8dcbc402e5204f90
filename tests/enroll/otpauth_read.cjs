// SPDX-License-Identifier: Apache-2.0
// Reads otpauth:// URIs the way npm's `otpauth` package (used by web and desktop
// authenticators) does, as an independent second parser for test_enroll.py.
//
//   stdin:  JSON [{"uri": "otpauth://...", "time": SECONDS}, ...]
//   stdout: JSON [{"issuer": ..., "account": ..., "code": ...} or {"error": ...}, ...]
'use strict';
const OTPAuth = require('otpauth');
const fs = require('fs');

function read(request) {
  try {
    const otp = OTPAuth.URI.parse(request.uri);
    return {
      issuer: otp.issuer,
      account: otp.label,
      code: otp.generate({ timestamp: request.time * 1000 }),
    };
  } catch (error) {
    return { error: String(error) };
  }
}

const requests = JSON.parse(fs.readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(requests.map(read)));
