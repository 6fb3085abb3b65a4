// A real OpenID provider for Staffel's tests: the certified `oidc-provider` package, configured
// by the test that starts it. Usage: node provider.js CONFIG.json
//
// CONFIG: { "issuer": "http://127.0.0.1:PORT", "port": PORT, "audience": "staffel",
//           "jwks": {"keys": [private JWKs]}, "clients": [client metadata + "claims"],
//           "users": {"s.klein": {"name": ..., "org": ..., "roles": [...]}} }
//
// - Web sign-in: the provider's own login page (any password; the login must be a configured
//   user), consent granted without asking (a first-party client), RP-initiated logout.
// - Machine clients: client credentials; the access token is a JWT for "audience" (RS256), with
//   the client's "claims" (org, roles, name, or none of them for a refusal test) added to it.
// - Users' access tokens for the same audience carry their org, roles and name.
// - Key rotation without a restart: POST /__test/rotate with a new private JWKS replaces the
//   provider's keys (its discovery and jwks_uri then publish only the new ones).
import http from 'node:http';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const users = config.users;
const clientClaims = Object.fromEntries(config.clients.map((c) => [c.client_id, c.claims]));
const clients = config.clients.map(({ claims, ttl, ...metadata }) => metadata);
const clientTtl = Object.fromEntries(config.clients.map((c) => [c.client_id, c.ttl]));

function staffelClaims(login) {
  const user = users[login];
  return { name: user.name, org: user.org, roles: user.roles };
}

function build(jwks) {
  const provider = new Provider(config.issuer, {
    clients,
    jwks,
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['name'], staffel: ['org', 'roles'] },
    scopes: ['openid', 'profile', 'staffel'],
    // false: org, roles and name in the ID token itself; true: only from userinfo
    conformIdTokenClaims: config.claimsOnlyInUserinfo ?? false,
    async findAccount(ctx, id) {
      if (!Object.hasOwn(users, id)) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...staffelClaims(id) };
        },
      };
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid profile staffel');
      if (!config.claimsOnlyInUserinfo) grant.addOIDCClaims(['name', 'org', 'roles']);
      if (!config.claimsOnlyInUserinfo) {
        grant.addResourceScope(config.audience, 'openid profile staffel');
      }
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: true }, // the provider's own login page
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // claims only in userinfo: an opaque access token for userinfo, not one for Staffel
        defaultResource: () => (config.claimsOnlyInUserinfo ? undefined : config.audience),
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => ({
          scope: 'openid profile staffel',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    async extraTokenClaims(ctx, token) {
      if (token.kind === 'ClientCredentials') return clientClaims[token.clientId] ?? undefined;
      if (token.accountId && Object.hasOwn(users, token.accountId)) {
        return staffelClaims(token.accountId);
      }
      return undefined;
    },
    ttl: {
      ClientCredentials: (ctx, token, client) => clientTtl[client.clientId] ?? 600,
      AccessToken: 600,
      IdToken: 600,
    },
    cookies: { keys: ['staffel-test-provider-cookie-key'] },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  return provider;
}

let provider = build(config.jwks);
let handler = provider.callback();

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/__test/rotate') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      provider = build(JSON.parse(body));
      handler = provider.callback();
      res.writeHead(204).end();
    });
    return;
  }
  handler(req, res);
});

server.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${config.issuer}`);
});
