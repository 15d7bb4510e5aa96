// Local stand-in for FranceConnect v2: a real OpenID Connect provider (panva's oidc-provider).
// Development, demos and tests only. See docs/oidc-stand-in.md.
//
//   node oidc/server.mjs            (or: cd oidc && npm start)
import http from 'node:http';
import { readFileSync } from 'node:fs';

import {
  BIND_HOST, MOUNT_PATH, SettingsError, readSettings,
} from './lib/settings.mjs';
import { loadSigningKeys } from './lib/keys.mjs';
import { buildInteractions, buildProvider } from './lib/provider.mjs';
import { createTestHooks, TEST_ROUTE } from './lib/test-hooks.mjs';
import { errorPage } from './lib/pages.mjs';

const log = (message) => process.stderr.write(`[oidc-stand-in] ${message}\n`);

const BODY_LIMIT = 64 * 1024;

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) {
      const err = new Error('request body too large');
      err.status = 413;
      throw err;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function loadIdentities(file) {
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  const identities = parsed.identities;
  if (!Array.isArray(identities) || !identities.length) {
    throw new Error(`${file}: "identities" must be a non-empty array`);
  }
  const seen = new Set();
  for (const identity of identities) {
    const { login, password, claims } = identity;
    if (!login || typeof password !== 'string' || !claims?.sub) {
      throw new Error(`${file}: each identity needs login, password and claims.sub`);
    }
    if (seen.has(login) || seen.has(claims.sub)) {
      throw new Error(`${file}: duplicate login or sub (${login})`);
    }
    seen.add(login);
    seen.add(claims.sub);
  }
  return identities;
}

async function main() {
  if (typeof URL.parse !== 'function') {
    throw new Error(`Node.js >= 20.18 is required (this is ${process.version})`);
  }
  const settings = readSettings();
  const identities = loadIdentities(settings.identitiesFile);
  const { keys: signingKeys, source: keySource } = await loadSigningKeys(settings.jwksFile);

  let handler = (req, res) => {
    res.writeHead(503);
    res.end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 5000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, BIND_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  const issuer = `http://${BIND_HOST}:${port}${MOUNT_PATH}`;

  const testHooks = settings.testing ? createTestHooks({ signingKeys, log }) : undefined;
  const provider = buildProvider({
    settings, issuer, port, signingKeys, identities, log, testHooks,
  });
  const providerCallback = provider.callback();
  const interactions = buildInteractions({
    provider, identities, readBody, log, debug: settings.debug,
  });

  const notFound = (res) => {
    res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(errorPage({ title: 'Page introuvable', message: 'Cette page n’existe pas sur le fournisseur d’identité de test.' }));
  };

  handler = async (req, res) => {
    try {
      const queryIndex = req.url.indexOf('?');
      const pathname = queryIndex === -1 ? req.url : req.url.slice(0, queryIndex);

      if (pathname === '/health') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
        return res.end(req.method === 'HEAD' ? undefined : 'ok');
      }
      if (testHooks && pathname === TEST_ROUTE) {
        return await testHooks.handle(req, res, readBody);
      }
      if (pathname.startsWith(`${MOUNT_PATH}/`)) {
        const inner = pathname.slice(MOUNT_PATH.length);
        if (inner.startsWith('/interaction/')) {
          return await interactions(req, res, inner);
        }
        // Mount oidc-provider under /api/v2 the way Express/koa-mount do: strip the prefix and
        // keep the full URL in req.originalUrl (oidc-provider derives its URLs from it).
        req.originalUrl = req.url;
        req.url = req.url.slice(MOUNT_PATH.length);
        return providerCallback(req, res);
      }
      return notFound(res);
    } catch (err) {
      log(`error on ${req.method} ${req.url}: ${err?.stack || err}`);
      if (!res.headersSent) {
        res.writeHead(err?.status === 413 ? 413 : 500, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(errorPage({ title: 'Erreur interne', message: 'Le fournisseur d’identité de test a rencontré une erreur.' }));
      } else {
        res.destroy();
      }
      return undefined;
    }
  };

  const shutdown = (signal) => {
    log(`${signal} received, stopping`);
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  if (settings.debug || settings.testing) {
    log(`client_id=${settings.clientId} alg=${settings.alg} keys: ${keySource}`
      + `${settings.allowAnyLocalhostRedirect ? ' any-localhost-redirect=on' : ''}`
      + `${settings.testing ? ` test hook: POST ${TEST_ROUTE}` : ''}`);
  }
  console.log(`OIDC stand-in listening on ${issuer}`);
}

main().catch((err) => {
  if (err instanceof SettingsError) {
    log(`configuration error: ${err.message}`);
    process.exit(2);
  }
  log(`failed to start: ${err?.stack || err}`);
  process.exit(1);
});
