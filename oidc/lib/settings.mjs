// Settings of the FranceConnect stand-in, all read from the environment.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const OIDC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The issuer path of FranceConnect v2: https://<host>/api/v2
export const MOUNT_PATH = '/api/v2';

export const BIND_HOST = '127.0.0.1';

export const DEFAULTS = Object.freeze({
  OIDC_PORT: '9090',
  OIDC_CLIENT_ID: 'pecule-local',
  OIDC_CLIENT_SECRET: 'pecule-local-secret-please-change-0123456789',
  OIDC_REDIRECT_URIS: 'http://127.0.0.1:8000/oidc/callback/,http://localhost:8000/oidc/callback/',
  OIDC_POST_LOGOUT_REDIRECT_URIS: 'http://127.0.0.1:8000/deconnexion/fin/,http://localhost:8000/deconnexion/fin/',
  OIDC_ALG: 'ES256',
});

const SUPPORTED_ALGS = new Set(['ES256', 'RS256']);

function flag(value) {
  return ['1', 'true', 'yes', 'on'].includes(String(value ?? '').trim().toLowerCase());
}

function list(value) {
  return String(value)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

export class SettingsError extends Error {}

export function readSettings(env = process.env) {
  const get = (name) => {
    const value = env[name];
    return value === undefined || value === '' ? DEFAULTS[name] : value;
  };

  const portText = get('OIDC_PORT');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SettingsError(`OIDC_PORT must be an integer between 0 and 65535 (got ${JSON.stringify(portText)})`);
  }

  const alg = get('OIDC_ALG').trim().toUpperCase();
  if (!SUPPORTED_ALGS.has(alg)) {
    throw new SettingsError(`OIDC_ALG must be ES256 or RS256 (got ${JSON.stringify(env.OIDC_ALG)})`);
  }

  const redirectUris = list(get('OIDC_REDIRECT_URIS'));
  const postLogoutRedirectUris = list(get('OIDC_POST_LOGOUT_REDIRECT_URIS'));
  for (const uri of [...redirectUris, ...postLogoutRedirectUris]) {
    if (!URL.canParse(uri)) {
      throw new SettingsError(`invalid redirect URI in the environment: ${JSON.stringify(uri)}`);
    }
  }
  if (!redirectUris.length) {
    throw new SettingsError('OIDC_REDIRECT_URIS must list at least one URI');
  }

  const clientSecret = get('OIDC_CLIENT_SECRET');
  if (clientSecret.length < 32) {
    throw new SettingsError('OIDC_CLIENT_SECRET must be at least 32 characters long');
  }

  return {
    port,
    alg,
    clientId: get('OIDC_CLIENT_ID'),
    clientSecret,
    redirectUris,
    postLogoutRedirectUris,
    allowAnyLocalhostRedirect: flag(env.OIDC_ALLOW_ANY_LOCALHOST_REDIRECT),
    testing: flag(env.OIDC_TESTING),
    debug: flag(env.OIDC_DEBUG),
    jwksFile: env.OIDC_JWKS_FILE ? path.resolve(env.OIDC_JWKS_FILE) : undefined,
    identitiesFile: path.resolve(env.OIDC_IDENTITIES_FILE || path.join(OIDC_DIR, 'identities.json')),
  };
}
