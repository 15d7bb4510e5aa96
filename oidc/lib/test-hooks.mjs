// The controllable adversary used by the portal's tests. Only created when OIDC_TESTING=1.
//
//   POST   /__test__/next-id-token-overrides   JSON body, see ACCEPTED below; replaces what is pending
//   GET    /__test__/next-id-token-overrides   what is pending
//   DELETE /__test__/next-id-token-overrides   clear
//
// The ID-token part is applied to the next successful token endpoint response that carries an
// id_token, the userinfo part to the next successful userinfo response; each part is used once.
// Claim changes are re-signed with the provider's own key (so only the changed claim is wrong);
// tamper_signature flips one byte of the signature; unsigned replaces the JWS by an alg "none" JWT.
import { CompactSign, importJWK } from 'jose';

export const TEST_ROUTE = '/__test__/next-id-token-overrides';

const CLAIM_KEYS = ['aud', 'acr', 'iss', 'sub', 'nonce', 'exp', 'iat', 'auth_time'];

// key in the request body -> [target, what]
const ACCEPTED = new Map([
  ...CLAIM_KEYS.map((claim) => [claim, ['idToken', 'claim', claim]]),
  ['expired', ['idToken', 'expired']],
  ['tamper_signature', ['idToken', 'tamper']],
  ['unsigned', ['idToken', 'unsigned']],
  ['id_token_claims', ['idToken', 'claims']],
  ...CLAIM_KEYS.map((claim) => [`userinfo_${claim}`, ['userinfo', 'claim', claim]]),
  ['userinfo_expired', ['userinfo', 'expired']],
  ['userinfo_tamper_signature', ['userinfo', 'tamper']],
  ['userinfo_unsigned', ['userinfo', 'unsigned']],
  ['userinfo_claims', ['userinfo', 'claims']],
]);

class BadRequest extends Error {}

function emptySpec() {
  return { claims: {}, expired: false, tamper: false, unsigned: false };
}

function parseOverrides(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest('the body must be a JSON object');
  }
  const unknown = Object.keys(body).filter((key) => !ACCEPTED.has(key));
  if (unknown.length) {
    throw new BadRequest(`unknown key(s): ${unknown.join(', ')}; accepted: ${[...ACCEPTED.keys()].join(', ')}`);
  }
  const specs = { idToken: emptySpec(), userinfo: emptySpec() };
  const used = { idToken: false, userinfo: false };
  for (const [key, value] of Object.entries(body)) {
    const [target, what, claim] = ACCEPTED.get(key);
    const spec = specs[target];
    switch (what) {
      case 'claim':
        spec.claims[claim] = value;
        used[target] = true;
        break;
      case 'claims':
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          throw new BadRequest(`${key} must be an object of claims`);
        }
        Object.assign(spec.claims, value);
        used[target] = true;
        break;
      default:
        if (typeof value !== 'boolean') {
          throw new BadRequest(`${key} must be true or false`);
        }
        spec[what] = value;
        used[target] ||= value;
    }
  }
  return {
    idToken: used.idToken ? specs.idToken : null,
    userinfo: used.userinfo ? specs.userinfo : null,
  };
}

const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const encodePart = (value) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

function flipSignatureByte(jwt) {
  const [header, payload, signature] = jwt.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  if (!bytes.length) {
    return `${header}.${payload}.${Buffer.from([1]).toString('base64url')}`;
  }
  bytes[Math.floor(bytes.length / 2)] ^= 0x5a;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

export function createTestHooks({ signingKeys, log }) {
  const keysByKid = new Map(signingKeys.map((jwk) => [jwk.kid, jwk]));
  let pending = { idToken: null, userinfo: null };

  async function rewrite(jwt, spec) {
    const [headerPart, payloadPart] = jwt.split('.');
    const header = decodePart(headerPart);
    const payload = decodePart(payloadPart);
    const changesClaims = spec.expired || Object.keys(spec.claims).length > 0;

    for (const [claim, value] of Object.entries(spec.claims)) {
      if (value === null) {
        delete payload[claim];
      } else {
        payload[claim] = value;
      }
    }
    if (spec.expired) {
      const now = Math.floor(Date.now() / 1000);
      payload.iat = now - 600;
      payload.exp = now - 300;
    }

    let out = jwt;
    if (spec.unsigned) {
      out = `${encodePart({ alg: 'none', typ: header.typ || 'JWT' })}.${encodePart(payload)}.`;
    } else if (changesClaims) {
      const jwk = keysByKid.get(header.kid);
      if (!jwk) {
        throw new Error(`no signing key with kid ${header.kid}`);
      }
      const key = await importJWK(jwk, header.alg);
      out = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader(header)
        .sign(key);
    }
    if (spec.tamper) {
      out = flipSignatureByte(out);
    }
    return out;
  }

  // Koa middleware, mounted with provider.use(): post-processes the token and userinfo responses.
  async function middleware(ctx, next) {
    await next();
    const route = ctx._matchedRouteName;
    if (route === 'token' && ctx.status === 200 && pending.idToken
        && ctx.body && typeof ctx.body === 'object' && typeof ctx.body.id_token === 'string') {
      const spec = pending.idToken;
      pending.idToken = null;
      ctx.body = { ...ctx.body, id_token: await rewrite(ctx.body.id_token, spec) };
      log(`test hook: next ID token altered (${describe(spec)})`);
    } else if (route === 'userinfo' && ctx.status === 200 && pending.userinfo && typeof ctx.body === 'string') {
      const spec = pending.userinfo;
      pending.userinfo = null;
      const type = ctx.response.get('Content-Type');
      ctx.body = await rewrite(ctx.body, spec);
      ctx.set('Content-Type', type);
      log(`test hook: next userinfo altered (${describe(spec)})`);
    }
  }

  function describe(spec) {
    const parts = Object.keys(spec.claims);
    if (spec.expired) parts.push('expired');
    if (spec.unsigned) parts.push('unsigned');
    if (spec.tamper) parts.push('tampered signature');
    return parts.join(', ');
  }

  function snapshot() {
    return { pending: { id_token: pending.idToken, userinfo: pending.userinfo } };
  }

  // Plain node:http handler for TEST_ROUTE.
  async function handle(req, res, readBody) {
    const send = (status, body) => {
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(text);
    };
    switch (req.method) {
      case 'GET':
        return send(200, snapshot());
      case 'DELETE':
        pending = { idToken: null, userinfo: null };
        return send(200, snapshot());
      case 'POST': {
        let body;
        try {
          const raw = await readBody(req);
          body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
          pending = parseOverrides(body);
        } catch (err) {
          if (err instanceof BadRequest || err instanceof SyntaxError) {
            return send(400, { error: 'invalid_request', error_description: err.message });
          }
          throw err;
        }
        log(`test hook: overrides armed ${JSON.stringify(body)}`);
        return send(200, snapshot());
      }
      default:
        res.writeHead(405, { Allow: 'GET, POST, DELETE' });
        return res.end();
    }
  }

  return { middleware, handle };
}
