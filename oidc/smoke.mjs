// Smoke test of the FranceConnect stand-in: starts oidc/server.mjs (on free ports) and plays the
// client's side with plain HTTP requests. Run: node oidc/smoke.mjs   (or: cd oidc && npm run smoke)
// Ends with "N passed, N failed"; exit code 1 when anything failed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify,
} from 'jose';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVER = path.join(HERE, 'server.mjs');
const { identities } = JSON.parse(readFileSync(path.join(HERE, 'identities.json'), 'utf8'));
const identity = (login) => identities.find((item) => item.login === login);

const CLIENT_ID = 'pecule-local';
const CLIENT_SECRET = 'pecule-local-secret-please-change-0123456789';
const REDIRECT_URI = 'http://127.0.0.1:8000/oidc/callback/';
const POST_LOGOUT_URI = 'http://127.0.0.1:8000/deconnexion/fin/';
const ALL_SCOPES = 'openid given_name family_name birthdate birthplace birthcountry email gender';
const TEST_ROUTE = '/__test__/next-id-token-overrides';

// --- tiny runner ---------------------------------------------------------------------------------
let passed = 0;
let failed = 0;
async function test(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${name}`);
    console.log(String(err?.stack || err).split('\n').map((line) => `    ${line}`).join('\n'));
  }
}

// --- server processes ----------------------------------------------------------------------------
const started = [];
async function startServer(env = {}) {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, OIDC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const issuer = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in time\n${stderr}`)), 15000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /^OIDC stand-in listening on (http:\/\/127\.0\.0\.1:\d+\/api\/v2)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}\n${stderr}`));
    });
  });
  const origin = new URL(issuer).origin;
  return {
    issuer,
    origin,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

// --- a minimal browser: one cookie jar for the provider's host, manual redirects ---------------
class Browser {
  constructor(origin) {
    this.origin = origin;
    this.jar = new Map();
  }

  store(res) {
    for (const header of res.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(header)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(url, { method = 'GET', form } = {}) {
    const headers = {};
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.store(res);
    return res;
  }

  // Follows redirects while they stay on the provider; stops at the first one leaving it
  // (the client's redirect_uri) or at a non-redirect response.
  async go(url, options) {
    let res = await this.request(url, options);
    for (let hops = 0; hops < 10; hops += 1) {
      if (![301, 302, 303, 307, 308].includes(res.status)) {
        return { res, url, body: await res.text() };
      }
      const location = new URL(res.headers.get('location'), url).href;
      if (new URL(location).origin !== this.origin) {
        return { res, url, leftTo: location };
      }
      url = location;
      res = await this.request(url);
    }
    throw new Error('too many redirects');
  }
}

const b64url = (buffer) => buffer.toString('base64url');
const randomString = (bytes = 24) => b64url(randomBytes(bytes));

function authorizeUrl(server, {
  redirectUri = REDIRECT_URI, scope = ALL_SCOPES, state, nonce, codeChallenge, extra = {}, omit = [],
} = {}) {
  const params = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    scope,
    acr_values: 'eidas1',
    state,
    nonce,
    ...(codeChallenge ? { code_challenge: codeChallenge, code_challenge_method: 'S256' } : {}),
    ...extra,
  };
  for (const key of omit) delete params[key];
  return `${server.issuer}/authorize?${new URLSearchParams(params)}`;
}

function parseForms(html) {
  const forms = {};
  for (const match of html.matchAll(/<form method="post" action="([^"]+)" id="([^"]+)">/g)) {
    forms[match[2]] = match[1].replaceAll('&amp;', '&');
  }
  return forms;
}

async function openLoginPage(server, browser, options) {
  const { res, body, url } = await browser.go(authorizeUrl(server, options));
  assert.equal(res.status, 200, `login page expected, got ${res.status} ${body?.slice(0, 300)}`);
  return { body, url, forms: parseForms(body) };
}

// Runs the whole front-channel part; returns the callback's parameters.
async function authorize(server, {
  login = 'test', password = '123', browser = new Browser(server.origin), pkce = true, ...options
} = {}) {
  const state = randomString();
  const nonce = randomString();
  const verifier = pkce ? randomString(32) : undefined;
  const codeChallenge = pkce ? b64url(createHash('sha256').update(verifier).digest()) : undefined;
  const page = await openLoginPage(server, browser, {
    state, nonce, codeChallenge, ...options,
  });
  const submitted = await browser.go(new URL(page.forms.connexion, server.origin).href, {
    method: 'POST', form: { login, password },
  });
  assert.ok(submitted.leftTo, `expected a redirect back to the client, got ${submitted.res.status}`);
  const callback = new URL(submitted.leftTo);
  return {
    browser, state, nonce, verifier, callback, params: Object.fromEntries(callback.searchParams),
  };
}

async function tokenRequest(server, fields, headers = {}) {
  const res = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { res, json: await res.json() };
}

async function exchange(server, flow, { redirectUri = REDIRECT_URI, verifier = flow.verifier } = {}) {
  return tokenRequest(server, {
    grant_type: 'authorization_code',
    code: flow.params.code,
    redirect_uri: redirectUri,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...(verifier ? { code_verifier: verifier } : {}),
  });
}

async function getJwks(server) {
  const res = await fetch(`${server.issuer}/jwks`);
  return res.json();
}

async function userinfo(server, accessToken) {
  const res = await fetch(`${server.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { res, body: await res.text() };
}

// Full flow: front channel, code exchange, ID token and userinfo checks.
async function fullFlow(server, { alg, login = 'test', ...options } = {}) {
  const flow = await authorize(server, { login, ...options });
  assert.ok(flow.params.code, `no code in ${flow.callback}`);
  assert.equal(flow.params.state, flow.state);
  const { res, json } = await exchange(server, flow, options);
  assert.equal(res.status, 200, JSON.stringify(json));
  return { flow, tokens: json };
}

async function verify(server, jwt, alg) {
  const jwks = createLocalJWKSet(await getJwks(server));
  return jwtVerify(jwt, jwks, { issuer: server.issuer, audience: CLIENT_ID, algorithms: [alg] });
}

// --- the tests -----------------------------------------------------------------------------------
async function defaultServerTests(server) {
  await test('GET /health answers 200 ok', async () => {
    const res = await fetch(`${server.origin}/health`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok');
  });

  await test('discovery advertises exactly the FranceConnect v2 endpoints and settings', async () => {
    const res = await fetch(`${server.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.issuer, server.issuer);
    const endpoints = Object.fromEntries(Object.entries(doc).filter(([key]) => key.endsWith('_endpoint') || key === 'jwks_uri'));
    assert.deepEqual(endpoints, {
      authorization_endpoint: `${server.issuer}/authorize`,
      token_endpoint: `${server.issuer}/token`,
      userinfo_endpoint: `${server.issuer}/userinfo`,
      jwks_uri: `${server.issuer}/jwks`,
      end_session_endpoint: `${server.issuer}/session/end`,
    });
    assert.deepEqual(doc.acr_values_supported, ['eidas1']);
    assert.deepEqual(doc.token_endpoint_auth_methods_supported, ['client_secret_post']);
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.grant_types_supported, ['authorization_code']);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    for (const alg of ['ES256', 'RS256']) {
      assert.ok(doc.id_token_signing_alg_values_supported.includes(alg));
      assert.ok(doc.userinfo_signing_alg_values_supported.includes(alg));
    }
    for (const scope of ALL_SCOPES.split(' ')) assert.ok(doc.scopes_supported.includes(scope), scope);
  });

  await test('jwks publishes an ES256 P-256 key and an RS256 key, public parts only', async () => {
    const { keys } = await getJwks(server);
    const ec = keys.find((key) => key.alg === 'ES256');
    const rsa = keys.find((key) => key.alg === 'RS256');
    assert.equal(ec?.kty, 'EC');
    assert.equal(ec.crv, 'P-256');
    assert.equal(rsa?.kty, 'RSA');
    for (const key of keys) {
      assert.ok(key.kid);
      assert.equal(key.d, undefined);
    }
  });

  await test('the test hook does not exist without OIDC_TESTING=1', async () => {
    const res = await fetch(`${server.origin}${TEST_ROUTE}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"aud":"other"}',
    });
    assert.equal(res.status, 404);
  });

  await test('login page: French form with login/password, « Se connecter » and « Annuler »', async () => {
    const browser = new Browser(server.origin);
    const page = await openLoginPage(server, browser, { state: randomString(), nonce: randomString() });
    assert.match(page.url, /\/api\/v2\/interaction\/[\w-]+$/);
    assert.ok(page.body.includes("Connexion au fournisseur d'identité de test"));
    assert.ok(page.body.includes('<html lang="fr">'));
    assert.match(page.body, /<input[^>]* name="login"/);
    assert.match(page.body, /<input[^>]* name="password" type="password"/);
    assert.match(page.body, />Se connecter<\/button>/);
    assert.match(page.body, />Annuler<\/button>/);
    assert.ok(!/(src|href)="https?:/.test(page.body), 'no external asset');
    assert.ok(page.forms.connexion && page.forms.annulation);
  });

  await test('wrong password: the login page again with an error, no redirect', async () => {
    const browser = new Browser(server.origin);
    const page = await openLoginPage(server, browser, { state: randomString(), nonce: randomString() });
    const res = await browser.request(new URL(page.forms.connexion, server.origin).href, {
      method: 'POST', form: { login: 'test', password: 'wrong' },
    });
    assert.equal(res.status, 401);
    assert.ok((await res.text()).includes('Identifiant ou mot de passe incorrect.'));
  });

  let lastTest;
  await test('code flow for `test` (PKCE S256, client_secret_post, ES256 ID token and JWT userinfo)', async () => {
    const { flow, tokens } = await fullFlow(server);
    assert.equal(flow.params.iss, server.issuer);
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.expires_in, 60);
    assert.equal(tokens.refresh_token, undefined);
    assert.ok(tokens.access_token && tokens.id_token);

    assert.equal(decodeProtectedHeader(tokens.id_token).alg, 'ES256');
    const { payload: id } = await verify(server, tokens.id_token, 'ES256');
    const expected = identity('test').claims;
    assert.equal(id.sub, expected.sub);
    assert.equal(id.acr, 'eidas1');
    assert.equal(id.nonce, flow.nonce);
    assert.equal(id.exp - id.iat, 60);
    assert.equal(id.given_name, undefined, 'identity claims come from userinfo');

    const ui = await userinfo(server, tokens.access_token);
    assert.equal(ui.res.status, 200);
    assert.match(ui.res.headers.get('content-type'), /^application\/jwt/);
    assert.equal(decodeProtectedHeader(ui.body).alg, 'ES256');
    const { payload: claims } = await verify(server, ui.body, 'ES256');
    for (const [claim, value] of Object.entries(expected)) assert.equal(claims[claim], value, claim);
    assert.equal(claims.family_name, 'DUBOIS');
    assert.equal(claims.given_name, 'Angela Claire Louise');
    assert.equal(claims.birthdate, '1962-08-24');
    assert.equal(claims.birthplace, '75107');
    assert.equal(claims.birthcountry, '99100');
    assert.equal(claims.email, 'wossewodda-3728@yopmail.com');
    lastTest = { flow, tokens };
  });

  await test('an authorization code works once only', async () => {
    const { json } = await exchange(server, lastTest.flow);
    assert.equal(json.error, 'invalid_grant');
  });

  await test('PKCE is optional, but checked when used', async () => {
    const plain = await authorize(server, { pkce: false });
    const ok = await exchange(server, plain);
    assert.equal(ok.res.status, 200, JSON.stringify(ok.json));

    const withPkce = await authorize(server);
    const wrong = await exchange(server, withPkce, { verifier: randomString(32) });
    assert.equal(wrong.json.error, 'invalid_grant');

    const again = await authorize(server);
    const missing = await exchange(server, again, { verifier: null });
    assert.equal(missing.json.error, 'invalid_grant');
  });

  await test('token endpoint: only client_secret_post, with the right secret', async () => {
    const flow = await authorize(server);
    const basic = await tokenRequest(server, {
      grant_type: 'authorization_code', code: flow.params.code, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier,
    }, { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` });
    assert.equal(basic.json.error, 'invalid_client');

    const flow2 = await authorize(server);
    const wrong = await tokenRequest(server, {
      grant_type: 'authorization_code',
      code: flow2.params.code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: 'not-the-secret-not-the-secret-not-the-secret',
      code_verifier: flow2.verifier,
    });
    assert.equal(wrong.json.error, 'invalid_client');
  });

  await test('claims follow the scopes; accents survive; `sansemail` has no email', async () => {
    const only = await fullFlow(server, { login: 'martin', scope: 'openid given_name' });
    const ui = await userinfo(server, only.tokens.access_token);
    const { payload } = await verify(server, ui.body, 'ES256');
    assert.equal(payload.sub, identity('martin').claims.sub);
    assert.equal(payload.given_name, 'Jean-Pierre');
    for (const claim of ['family_name', 'birthdate', 'email']) assert.equal(payload[claim], undefined, claim);

    const heloise = await fullFlow(server, { login: 'heloise' });
    const ui2 = await userinfo(server, heloise.tokens.access_token);
    const { payload: p2 } = await verify(server, ui2.body, 'ES256');
    assert.equal(p2.given_name, 'Héloïse Éléonore');
    assert.equal(p2.family_name, 'LEFÈVRE');
    assert.equal(p2.birthdate, '1990-11-02');

    const paul = await fullFlow(server, { login: 'sansemail' });
    const ui3 = await userinfo(server, paul.tokens.access_token);
    const { payload: p3 } = await verify(server, ui3.body, 'ES256');
    assert.equal(p3.family_name, 'BERNARD');
    assert.equal(p3.birthdate, '1958-01-30');
    assert.equal(p3.email, undefined);
  });

  await test('« Annuler » sends error=access_denied with error_description and state back', async () => {
    const browser = new Browser(server.origin);
    const state = randomString();
    const page = await openLoginPage(server, browser, { state, nonce: randomString() });
    const back = await browser.go(new URL(page.forms.annulation, server.origin).href, { method: 'POST' });
    assert.ok(back.leftTo);
    const callback = new URL(back.leftTo);
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.ok(callback.searchParams.get('error_description'));
    assert.equal(callback.searchParams.get('state'), state);
    assert.equal(callback.searchParams.get('code'), null);
  });

  await test('FranceConnect request checks: nonce (22+), acr_values=eidas1, state, no prompt=none', async () => {
    const cases = [
      [{ omit: ['nonce'] }, /nonce/],
      [{ nonce: 'short-nonce' }, /nonce/],
      [{ omit: ['acr_values'] }, /acr_values/],
      [{ extra: { acr_values: 'eidas2' } }, /acr_values/],
      [{ extra: { prompt: 'none' } }, /prompt/],
    ];
    for (const [options, description] of cases) {
      const state = randomString();
      const res = await fetch(authorizeUrl(server, { state, nonce: randomString(), ...options }), { redirect: 'manual' });
      assert.equal(res.status, 303, JSON.stringify(options));
      const location = new URL(res.headers.get('location'));
      assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
      assert.equal(location.searchParams.get('error'), 'invalid_request', JSON.stringify(options));
      assert.match(location.searchParams.get('error_description'), description);
      assert.equal(location.searchParams.get('state'), state);
    }
    // response_mode other than query: refused (oidc-provider answers in the requested mode)
    const formPost = await fetch(authorizeUrl(server, {
      state: randomString(), nonce: randomString(), extra: { response_mode: 'form_post' },
    }), { redirect: 'manual' });
    const formPostBody = await formPost.text();
    assert.ok(formPostBody.includes(`action="${REDIRECT_URI}"`));
    assert.match(formPostBody, /name="error" value="invalid_request"/);
    assert.ok(!formPostBody.includes('name="code"'));
    const noState = await fetch(authorizeUrl(server, { nonce: randomString(), omit: ['state'] }), { redirect: 'manual' });
    assert.equal(new URL(noState.headers.get('location')).searchParams.get('error'), 'invalid_request');
  });

  await test('an unregistered redirect_uri gets an error page, never a redirect', async () => {
    const res = await fetch(authorizeUrl(server, {
      redirectUri: 'http://127.0.0.1:8123/oidc/callback/', state: randomString(), nonce: randomString(),
    }), { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /redirect_uri/);
  });

  await test('RP-initiated logout: straight back to post_logout_redirect_uri with the state', async () => {
    const { flow, tokens } = await fullFlow(server, { login: 'martin' });
    const state = randomString();
    const url = `${server.issuer}/session/end?${new URLSearchParams({
      id_token_hint: tokens.id_token, state, post_logout_redirect_uri: POST_LOGOUT_URI,
    })}`;
    const out = await flow.browser.go(url);
    assert.equal(out.leftTo, `${POST_LOGOUT_URI}?state=${state}`);
    assert.equal(flow.browser.jar.has('fc_standin_session'), false, 'session cookie cleared');
    const ui = await userinfo(server, tokens.access_token);
    assert.equal(ui.res.status, 401, 'access token revoked by the logout');
  });

  await test('logout also goes straight back when the browser has no provider session any more', async () => {
    const { tokens } = await fullFlow(server);
    const state = randomString();
    const out = await new Browser(server.origin).go(`${server.issuer}/session/end?${new URLSearchParams({
      id_token_hint: tokens.id_token, state, post_logout_redirect_uri: POST_LOGOUT_URI,
    })}`);
    assert.equal(out.leftTo, `${POST_LOGOUT_URI}?state=${state}`);
  });

  await test('logout to an unregistered post_logout_redirect_uri is refused', async () => {
    const { tokens } = await fullFlow(server);
    const res = await fetch(`${server.issuer}/session/end?${new URLSearchParams({
      id_token_hint: tokens.id_token, state: 'x', post_logout_redirect_uri: 'http://127.0.0.1:8123/deconnexion/fin/',
    })}`, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });

  await test('the login page comes back on every authorization; another identity can log in', async () => {
    const browser = new Browser(server.origin);
    const first = await fullFlow(server, { login: 'test', browser });
    const second = await fullFlow(server, { login: 'heloise', browser });
    const { payload: a } = await verify(server, first.tokens.id_token, 'ES256');
    const { payload: b } = await verify(server, second.tokens.id_token, 'ES256');
    assert.equal(a.sub, identity('test').claims.sub);
    assert.equal(b.sub, identity('heloise').claims.sub);
  });
}

async function testingServerTests(server) {
  const RANDOM_REDIRECT = 'http://localhost:54321/oidc/callback/';
  const RANDOM_POST_LOGOUT = 'http://127.0.0.1:54321/deconnexion/fin/';
  const arm = async (body) => {
    const res = await fetch(`${server.origin}${TEST_ROUTE}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    return { res, json: await res.json() };
  };
  const jwksOf = async () => createLocalJWKSet(await getJwks(server));

  await test('OIDC_ALG=RS256 + any localhost redirect: flow on a random port, RS256 tokens', async () => {
    const { tokens } = await fullFlow(server, { redirectUri: RANDOM_REDIRECT });
    assert.equal(decodeProtectedHeader(tokens.id_token).alg, 'RS256');
    await verify(server, tokens.id_token, 'RS256');
    const ui = await userinfo(server, tokens.access_token);
    assert.equal(decodeProtectedHeader(ui.body).alg, 'RS256');
    await verify(server, ui.body, 'RS256');
  });

  await test('any localhost redirect still refuses non-loopback hosts', async () => {
    const res = await fetch(authorizeUrl(server, {
      redirectUri: 'http://example.com/oidc/callback/', state: randomString(), nonce: randomString(),
    }), { redirect: 'manual' });
    assert.equal(res.status, 400);
  });

  await test('test hook: wrong aud, acr and iss on the next ID token, validly signed', async () => {
    const armed = await arm({ aud: 'other', acr: 'eidas2', iss: 'http://evil' });
    assert.equal(armed.res.status, 200);
    assert.equal(armed.json.pending.id_token.claims.aud, 'other');
    const { tokens } = await fullFlow(server);
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token, await jwksOf(), { algorithms: ['RS256'] });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.aud, 'other');
    assert.equal(payload.acr, 'eidas2');
    assert.equal(payload.iss, 'http://evil');
    await assert.rejects(verify(server, tokens.id_token, 'RS256'), joseErrors.JWTClaimValidationFailed);
    // userinfo untouched
    const ui = await userinfo(server, tokens.access_token);
    await verify(server, ui.body, 'RS256');
  });

  await test('test hook: overrides are used once', async () => {
    const { tokens } = await fullFlow(server);
    const { payload } = await verify(server, tokens.id_token, 'RS256');
    assert.equal(payload.acr, 'eidas1');
  });

  await test('test hook: tampered ID token signature', async () => {
    await arm({ tamper_signature: true });
    const { tokens } = await fullFlow(server);
    await assert.rejects(verify(server, tokens.id_token, 'RS256'), joseErrors.JWSSignatureVerificationFailed);
    assert.equal(decodeJwt(tokens.id_token).acr, 'eidas1');
  });

  await test('test hook: userinfo sub mismatch, validly signed', async () => {
    await arm({ userinfo_sub: 'other-sub' });
    const { tokens } = await fullFlow(server);
    const { payload: id } = await verify(server, tokens.id_token, 'RS256');
    const ui = await userinfo(server, tokens.access_token);
    assert.match(ui.res.headers.get('content-type'), /^application\/jwt/);
    const { payload } = await verify(server, ui.body, 'RS256');
    assert.equal(payload.sub, 'other-sub');
    assert.notEqual(payload.sub, id.sub);
    assert.equal(payload.family_name, 'DUBOIS');
  });

  await test('test hook: userinfo tampered / wrong iss / expired; ID token expired / unsigned', async () => {
    await arm({ userinfo_tamper_signature: true, expired: true });
    let { tokens } = await fullFlow(server);
    await assert.rejects(verify(server, tokens.id_token, 'RS256'), joseErrors.JWTExpired);
    let ui = await userinfo(server, tokens.access_token);
    await assert.rejects(verify(server, ui.body, 'RS256'), joseErrors.JWSSignatureVerificationFailed);

    await arm({ userinfo_iss: 'http://evil', unsigned: true });
    ({ tokens } = await fullFlow(server));
    assert.equal(decodeProtectedHeader(tokens.id_token).alg, 'none');
    await assert.rejects(verify(server, tokens.id_token, 'RS256'));
    ui = await userinfo(server, tokens.access_token);
    await assert.rejects(verify(server, ui.body, 'RS256'), joseErrors.JWTClaimValidationFailed);

    await arm({ userinfo_expired: true, userinfo_aud: 'other' });
    ({ tokens } = await fullFlow(server));
    ui = await userinfo(server, tokens.access_token);
    const { payload } = await jwtVerify(ui.body, await jwksOf(), { algorithms: ['RS256'], clockTolerance: 0 }).catch((err) => ({ payload: decodeJwt(ui.body), err }));
    assert.equal(payload.aud, 'other');
    assert.ok(payload.exp < Date.now() / 1000);
  });

  await test('test hook: GET shows, DELETE clears, bad input is refused', async () => {
    await arm({ acr: 'eidas3' });
    let res = await fetch(`${server.origin}${TEST_ROUTE}`);
    assert.equal((await res.json()).pending.id_token.claims.acr, 'eidas3');
    res = await fetch(`${server.origin}${TEST_ROUTE}`, { method: 'DELETE' });
    assert.deepEqual((await res.json()).pending, { id_token: null, userinfo: null });
    const bad = await arm({ not_a_key: 1 });
    assert.equal(bad.res.status, 400);
    const notBool = await arm({ tamper_signature: 'yes' });
    assert.equal(notBool.res.status, 400);
    const { tokens } = await fullFlow(server);
    assert.equal((await verify(server, tokens.id_token, 'RS256')).payload.acr, 'eidas1');
  });

  await test('logout accepts an expired id_token_hint (ID tokens live 60 s)', async () => {
    await arm({ expired: true });
    const { flow, tokens } = await fullFlow(server);
    await assert.rejects(verify(server, tokens.id_token, 'RS256'), joseErrors.JWTExpired);
    const state = randomString();
    const out = await flow.browser.go(`${server.issuer}/session/end?${new URLSearchParams({
      id_token_hint: tokens.id_token, state, post_logout_redirect_uri: POST_LOGOUT_URI,
    })}`);
    assert.equal(out.leftTo, `${POST_LOGOUT_URI}?state=${state}`);
  });

  await test('logout refuses a tampered id_token_hint', async () => {
    await arm({ tamper_signature: true });
    const { flow, tokens } = await fullFlow(server);
    const out = await flow.browser.go(`${server.issuer}/session/end?${new URLSearchParams({
      id_token_hint: tokens.id_token, state: 'x', post_logout_redirect_uri: POST_LOGOUT_URI,
    })}`);
    assert.equal(out.leftTo, undefined);
    assert.equal(out.res.status, 400);
  });

  await test('logout back to a random-port post_logout_redirect_uri, with the state', async () => {
    const { flow, tokens } = await fullFlow(server, { redirectUri: RANDOM_REDIRECT });
    const state = randomString();
    const out = await flow.browser.go(`${server.issuer}/session/end?${new URLSearchParams({
      id_token_hint: tokens.id_token, state, post_logout_redirect_uri: RANDOM_POST_LOGOUT,
    })}`);
    assert.equal(out.leftTo, `${RANDOM_POST_LOGOUT}?state=${state}`);
  });
}

async function startupTests() {
  await test('a bad setting stops the server at startup (exit code 2)', async () => {
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, OIDC_PORT: '0', OIDC_ALG: 'HS256' }, stdio: 'ignore',
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 2);
  });

  await test('OIDC_JWKS_FILE: keys generated once, then reused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'oidc-smoke-'));
    try {
      const file = path.join(dir, 'jwks.json');
      const first = await startServer({ OIDC_JWKS_FILE: file });
      const kids1 = (await getJwks(first)).keys.map((key) => key.kid);
      await first.stop();
      assert.ok(existsSync(file));
      const second = await startServer({ OIDC_JWKS_FILE: file });
      const kids2 = (await getJwks(second)).keys.map((key) => key.kid);
      await second.stop();
      assert.deepEqual(kids2, kids1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

async function main() {
  let server;
  try {
    server = await startServer();
    await defaultServerTests(server);
  } catch (err) {
    failed += 1;
    console.log(`not ok - default server: ${err?.stack || err}`);
  } finally {
    await server?.stop();
  }

  try {
    server = await startServer({
      OIDC_TESTING: '1', OIDC_ALLOW_ANY_LOCALHOST_REDIRECT: '1', OIDC_ALG: 'RS256',
    });
    await testingServerTests(server);
  } catch (err) {
    failed += 1;
    console.log(`not ok - testing server: ${err?.stack || err}`);
  } finally {
    await server?.stop();
  }

  await startupTests();

  for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
