// Signing keys: one ES256 (P-256) key and one RS256 (RSA 2048) key, both published on /jwks.
// Generated at startup, or loaded from (and, the first time, written to) OIDC_JWKS_FILE.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

const WANTED = [
  { alg: 'ES256', kty: 'EC', crv: 'P-256' },
  { alg: 'RS256', kty: 'RSA' },
];

async function generate(alg) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.use = 'sig';
  jwk.alg = alg;
  return jwk;
}

function findKey(keys, { alg, kty, crv }) {
  return keys.find((key) => key.kty === kty && (!crv || key.crv === crv) && (!key.alg || key.alg === alg) && key.d);
}

export async function loadSigningKeys(file) {
  if (file && existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    const keys = Array.isArray(parsed?.keys) ? parsed.keys : [];
    const selected = [];
    for (const wanted of WANTED) {
      const key = findKey(keys, wanted);
      if (!key) {
        throw new Error(`${file} holds no private ${wanted.alg} key (a JWKS with private EC P-256 and RSA keys is expected)`);
      }
      selected.push({
        ...key,
        alg: wanted.alg,
        use: 'sig',
        kid: key.kid || (await calculateJwkThumbprint(key)),
      });
    }
    return { keys: selected, source: file };
  }

  const keys = [];
  for (const { alg } of WANTED) {
    keys.push(await generate(alg));
  }
  if (file) {
    writeFileSync(file, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
    return { keys, source: `${file} (generated)` };
  }
  return { keys, source: 'generated at startup' };
}
