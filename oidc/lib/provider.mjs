// oidc-provider configured like FranceConnect v2's low-assurance platform (eidas1).
import { randomBytes } from 'node:crypto';
import Provider, { errors, interactionPolicy } from 'oidc-provider';

import { errorPage, loginPage, logoutPage, postLogoutPage } from './pages.mjs';

export const ACR = 'eidas1';
export const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/jwks',
  end_session: '/session/end',
};

// FranceConnect's scopes, each releasing the claim of the same name, plus its grouped scopes.
const CLAIMS = {
  openid: ['sub'],
  given_name: ['given_name'],
  family_name: ['family_name'],
  birthdate: ['birthdate'],
  birthplace: ['birthplace'],
  birthcountry: ['birthcountry'],
  gender: ['gender'],
  preferred_username: ['preferred_username'],
  email: ['email'],
  profile: ['given_name', 'family_name', 'birthdate', 'gender', 'preferred_username'],
  birth: ['birthplace', 'birthcountry'],
  identite_pivot: ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'],
  acr: null,
  amr: null,
  auth_time: null,
  iss: null,
};

const TTL_TOKENS = 60; // access token, ID token, authorization code: 60 s, as FranceConnect

export const ABORT_DESCRIPTION = 'User auth aborted';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

export function isLoopbackHttpUri(value) {
  const url = URL.parse(value);
  return Boolean(url)
    && url.protocol === 'http:'
    && LOOPBACK_HOSTS.has(url.hostname)
    && !url.username && !url.password
    && !url.hash && !String(value).includes('#');
}

function parseSetCookie(header) {
  const [pair] = header.split(';');
  const index = pair.indexOf('=');
  if (index === -1) return undefined;
  return [pair.slice(0, index).trim(), pair.slice(index + 1).trim()];
}

function mergeCookies(requestCookieHeader, setCookieHeaders) {
  const jar = new Map();
  for (const part of String(requestCookieHeader || '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) jar.set(part.slice(0, index).trim(), part.slice(index + 1).trim());
  }
  for (const header of setCookieHeaders) {
    const parsed = parseSetCookie(header);
    if (!parsed) continue;
    const [name, value] = parsed;
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(header)) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

function asArray(value) {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function buildProvider({
  settings, issuer, port, signingKeys, identities, log, testHooks,
}) {
  const bySub = new Map(identities.map((identity) => [identity.claims.sub, identity]));
  const mountPath = new URL(issuer).pathname.replace(/\/$/, '');

  const policy = interactionPolicy.base();
  // FranceConnect always shows a page of its own when a service sends the user there; the
  // stand-in asks for the test identity on every authorization request (no silent SSO), so that
  // tests and demos can pick any identity without logging out first.
  policy.get('login').checks.add(new interactionPolicy.Check(
    'stand_in_login_each_time',
    'the stand-in asks for credentials on every authorization request',
    (ctx) => (ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT),
  ));

  const configuration = {
    clients: [{
      client_id: settings.clientId,
      client_secret: settings.clientSecret,
      client_name: 'Pécule (développement local)',
      application_type: 'web',
      redirect_uris: settings.redirectUris,
      post_logout_redirect_uris: settings.postLogoutRedirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: settings.alg,
      userinfo_signed_response_alg: settings.alg,
    }],
    clientAuthMethods: ['client_secret_post'],
    responseTypes: ['code'],
    subjectTypes: ['public'],
    scopes: Object.keys(CLAIMS).filter((name) => Array.isArray(CLAIMS[name])),
    claims: CLAIMS,
    acrValues: [ACR],
    conformIdTokenClaims: true,
    clockTolerance: 5,
    jwks: { keys: signingKeys },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
    },
    routes: ROUTES,
    cookies: {
      // Cookies are per host, not per port: distinct names keep them apart from the portal's.
      names: {
        session: 'fc_standin_session',
        interaction: 'fc_standin_interaction',
        resume: 'fc_standin_resume',
      },
      keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
      claimsParameter: { enabled: false },
      introspection: { enabled: false },
      revocation: { enabled: false },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = logoutPage({ form });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = postLogoutPage();
        },
      },
    },
    pkce: {
      // S256 accepted (and checked when a code_challenge is sent), never required, as FranceConnect.
      required: () => false,
    },
    ttl: {
      AccessToken: TTL_TOKENS,
      AuthorizationCode: TTL_TOKENS,
      IdToken: TTL_TOKENS,
      Interaction: 15 * 60,
      Session: 30 * 60,
      Grant: 30 * 60,
      // No refresh token is ever issued (see issueRefreshToken); these are placeholders.
      RefreshToken: TTL_TOKENS,
      ClientCredentials: TTL_TOKENS,
      DeviceCode: TTL_TOKENS,
      BackchannelAuthenticationRequest: TTL_TOKENS,
    },
    issueRefreshToken: async () => false,
    clientBasedCORS: () => false,
    // Checks FranceConnect makes on /authorize that oidc-provider does not make by itself.
    // Errors thrown here are sent back to the client's redirect_uri with the state.
    extraParams: {
      async state(ctx, value) {
        if (!value) throw new errors.InvalidRequest('state is required');
      },
      async nonce(ctx, value) {
        if (!value) throw new errors.InvalidRequest('nonce is required');
        if (value.length < 22) throw new errors.InvalidRequest('nonce must be at least 22 characters long');
      },
      async acr_values(ctx, value) {
        const values = String(value || '').split(' ').filter(Boolean);
        if (!values.includes(ACR)) {
          throw new errors.InvalidRequest(`acr_values must be ${ACR}`);
        }
      },
      async response_mode(ctx, value) {
        if (value !== undefined && value !== 'query') {
          throw new errors.InvalidRequest('only response_mode=query is supported');
        }
      },
      async prompt(ctx, value) {
        if (String(value || '').split(' ').includes('none')) {
          throw new errors.InvalidRequest('prompt=none is not supported');
        }
      },
    },
    interactions: {
      policy,
      url: (ctx, interaction) => `${mountPath}/interaction/${interaction.uid}`,
    },
    async findAccount(ctx, sub) {
      const identity = bySub.get(sub);
      if (!identity) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { ...identity.claims };
        },
      };
    },
    // Consent: FranceConnect asks for it on its own page; the stand-in grants the requested
    // scopes as soon as the user has logged in, so there is no separate consent screen.
    async loadExistingGrant(ctx) {
      const { client, session, account, result } = ctx.oidc;
      const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
      let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!grant || grant.accountId !== account.accountId || grant.clientId !== client.clientId) {
        grant = new ctx.oidc.provider.Grant({ accountId: account.accountId, clientId: client.clientId });
      }
      const scopes = [...ctx.oidc.requestParamOIDCScopes];
      if (scopes.length) grant.addOIDCScope(scopes.join(' '));
      const claims = [...(ctx.oidc.requestParamClaims || [])];
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    async renderError(ctx, out, error) {
      ctx.type = 'html';
      ctx.body = errorPage({
        title: 'Erreur du fournisseur d’identité de test',
        message: 'La demande n’a pas pu aboutir. Retournez sur le service et recommencez.',
        details: { error: out.error, error_description: out.error_description },
      });
      if (settings.debug) log(`render error: ${error?.stack || error}`);
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = false;

  // OIDC_ALLOW_ANY_LOCALHOST_REDIRECT=1: the test suite's live servers listen on random ports.
  if (settings.allowAnyLocalhostRedirect) {
    const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
    const allowed = (client, value) => client.clientId === settings.clientId && isLoopbackHttpUri(value);
    provider.Client.prototype.redirectUriAllowed = function anyLoopbackRedirectUri(value) {
      return redirectUriAllowed.call(this, value) || allowed(this, value);
    };
    provider.Client.prototype.postLogoutRedirectUriAllowed = function anyLoopbackPostLogoutUri(value) {
      return postLogoutRedirectUriAllowed.call(this, value) || allowed(this, value);
    };
  }

  // RP-initiated logout without a confirmation click (FranceConnect logs out directly): when
  // oidc-provider answers /session/end (or a resume that needs the previous user logged out) with
  // its confirmation form, post that form to ourselves and hand the browser the resulting redirect.
  const confirmUrl = `http://127.0.0.1:${port}${mountPath}${ROUTES.end_session}/confirm`;
  provider.use(async (ctx, next) => {
    await next();
    const route = ctx._matchedRouteName;
    if ((route !== 'end_session' && route !== 'resume') || ctx.status !== 200) return;
    if (typeof ctx.body !== 'string' || !ctx.body.includes(`${ROUTES.end_session}/confirm`)) return;
    const secret = ctx.oidc?.session?.state?.secret;
    if (!secret) return;
    const setCookies = asArray(ctx.response.headers['set-cookie']);
    const confirmed = await fetch(confirmUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: mergeCookies(ctx.get('cookie'), setCookies),
      },
      body: new URLSearchParams({ xsrf: secret, logout: 'yes' }).toString(),
    });
    const location = confirmed.headers.get('location');
    if (confirmed.status !== 303 || !location) {
      log(`automatic logout confirmation failed (HTTP ${confirmed.status}); showing the form`);
      return;
    }
    ctx.set('Set-Cookie', [...setCookies, ...confirmed.headers.getSetCookie()]);
    ctx.status = 303;
    ctx.redirect(location);
  });

  // FranceConnect's clients authenticate with client_secret_post. oidc-provider treats
  // client_secret_basic and client_secret_post as interchangeable; the stand-in refuses the
  // Authorization header on /token so that a client misconfigured for basic auth fails here too.
  provider.use(async (ctx, next) => {
    if (ctx.path === ROUTES.token && ctx.method === 'POST' && ctx.get('authorization')) {
      ctx.status = 401;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        error: 'invalid_client',
        error_description: 'client authentication must use client_secret_post (client_id and client_secret in the body)',
      };
      return;
    }
    await next();
  });

  // Discovery: advertise what FranceConnect advertises (oidc-provider always registers the
  // refresh_token grant type and the form_post/fragment response modes; no client may use them).
  provider.use(async (ctx, next) => {
    await next();
    if (ctx._matchedRouteName === 'discovery' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body = {
        ...ctx.body,
        grant_types_supported: ['authorization_code'],
        response_modes_supported: ['query'],
      };
    }
  });

  if (testHooks) {
    provider.use(testHooks.middleware);
  }

  provider.on('server_error', (ctx, err) => log(`server error: ${err?.stack || err}`));
  if (settings.debug) {
    for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error', 'jwks.error', 'discovery.error']) {
      provider.on(event, (ctx, err) => log(`${event}: ${err?.error || ''} ${err?.error_description || err?.message || ''}`));
    }
  }

  return provider;
}

// --- interactions: the login page (plain node:http handlers) -------------------------------------

export function buildInteractions({ provider, identities, readBody, log, debug }) {
  const byLogin = new Map(identities.map((identity) => [identity.login, identity]));
  const publicIdentities = identities.map(({ login, password, label }) => ({ login, password, label }));

  const html = (res, status, body) => {
    res.writeHead(status, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(body);
  };

  const expired = (res) => html(res, 400, errorPage({
    title: 'Demande de connexion expirée',
    message: 'Cette demande de connexion a expiré ou est introuvable. Retournez sur le service et recommencez.',
  }));

  async function details(req, res, uid) {
    try {
      const interaction = await provider.interactionDetails(req, res);
      if (interaction.uid !== uid) return undefined;
      return interaction;
    } catch (err) {
      if (err instanceof errors.SessionNotFound) return undefined;
      throw err;
    }
  }

  async function renderLogin(req, res, interaction, { status = 200, error, login } = {}) {
    const client = await provider.Client.find(interaction.params.client_id);
    const scopeClaims = new Set();
    for (const scope of String(interaction.params.scope || '').split(' ')) {
      for (const claim of CLAIMS[scope] || []) scopeClaims.add(claim);
    }
    const base = `${new URL(provider.issuer).pathname.replace(/\/$/, '')}/interaction/${interaction.uid}`;
    html(res, status, loginPage({
      actionLogin: `${base}/login`,
      actionAbort: `${base}/abort`,
      clientName: client?.clientName || interaction.params.client_id,
      requestedClaims: [...scopeClaims],
      identities: publicIdentities,
      error,
      login: login ?? interaction.params.login_hint,
    }));
  }

  return async function handle(req, res, pathname) {
    // pathname: /interaction/<uid>[/login|/abort] (mount path already removed)
    const match = /^\/interaction\/([\w-]+)(?:\/(login|abort))?\/?$/.exec(pathname);
    if (!match) return html(res, 404, errorPage({ title: 'Page introuvable', message: 'Cette page n’existe pas.' }));
    const [, uid, action] = match;
    const method = req.method;

    if ((!action && method !== 'GET') || (action && method !== 'POST')) {
      res.writeHead(405, { Allow: action ? 'POST' : 'GET' });
      return res.end();
    }

    const interaction = await details(req, res, uid);
    if (!interaction) return expired(res);

    if (!action) {
      if (interaction.prompt.name === 'consent') {
        // Not reached in practice (loadExistingGrant grants on login), kept for robustness.
        const grant = new provider.Grant({ accountId: interaction.session.accountId, clientId: interaction.params.client_id });
        grant.addOIDCScope(String(interaction.params.scope || 'openid'));
        const grantId = await grant.save();
        return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      }
      return renderLogin(req, res, interaction);
    }

    if (action === 'abort') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: ABORT_DESCRIPTION,
      }, { mergeWithLastSubmission: false });
    }

    // action === 'login'
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const login = (form.get('login') || '').trim();
    const password = form.get('password') || '';
    const identity = byLogin.get(login);
    if (!identity || identity.password !== password) {
      if (debug) log(`login refused for ${JSON.stringify(login)}`);
      return renderLogin(req, res, interaction, {
        status: 401,
        error: 'Identifiant ou mot de passe incorrect.',
        login,
      });
    }
    return provider.interactionFinished(req, res, {
      login: {
        accountId: identity.claims.sub,
        acr: ACR,
        amr: ['pwd'],
        remember: false,
      },
    }, { mergeWithLastSubmission: false });
  };
}

