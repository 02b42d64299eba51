// openid-client (panva, v6) against a real `eca serve`: discovery from
// /.well-known/openid-configuration, the authorization code flow with PKCE and nonce, the ID
// token's signature verified against the JWKS at /id/keys (non-repudiation checks on),
// userinfo with the ID token's `sub`, refresh, introspection and revocation.
// Exits non-zero on any failure.
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { ADMIN, FormWalker, logInAndDecide, runTests, startServer } from './harness.mjs';

const CALLBACK = 'http://127.0.0.1:1717/OauthRedirect';
const APP = {
  name: 'Oidc_App',
  flows: 'web',
  scopes: 'Api,RefreshToken,OpenID,Profile,Email',
  callback: CALLBACK,
  clientId: '3MVG9Interop.OpenidClient.Key',
  clientSecret: 'OidcSecret0123456789abcdef0123456789abcdef01',
};

const server = await startServer([APP]);

// The server runs on plain HTTP on loopback; openid-client refuses that unless told.
const config = await client.discovery(new URL(server.url), APP.clientId, APP.clientSecret, undefined, {
  execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
});

// The same client, but the ID token in token responses gets its signature's first byte
// changed on the way in: proof that openid-client really checks it against /id/keys.
const tampering = await client.discovery(new URL(server.url), APP.clientId, APP.clientSecret, undefined, {
  execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
});
tampering[client.customFetch] = async (url, options) => {
  const res = await fetch(url, options);
  if (!url.endsWith('/services/oauth2/token')) return res;
  const body = await res.json();
  if (body.id_token) {
    const [h, p, sig] = body.id_token.split('.');
    const bytes = Buffer.from(sig, 'base64url');
    bytes[0] ^= 1;
    body.id_token = `${h}.${p}.${bytes.toString('base64url')}`;
  }
  return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
};

async function codeFlow(cfg = config, walker = undefined) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: CALLBACK,
    scope: 'openid api refresh_token profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const location = await logInAndDecide(url.href, 'oaapprove', walker);
  // Checks `state`, `iss` (RFC 9207, announced in discovery), the code exchange, and the ID
  // token: signature against the JWKS, iss, aud, exp, iat, nonce.
  const tokens = await client.authorizationCodeGrant(cfg, new URL(location), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return tokens;
}

await runTests('openid-client', server, {
  async discovery() {
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, server.url);
    assert.equal(meta.jwks_uri, `${server.url}/id/keys`);
    assert.ok(meta.code_challenge_methods_supported.includes('S256'));
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
  },

  async 'code flow with PKCE, ID token verified against the JWKS, userinfo'() {
    const tokens = await codeFlow();
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.refresh_token);
    const claims = tokens.claims();
    assert.equal(claims.iss, server.url);
    assert.ok([].concat(claims.aud).includes(APP.clientId), JSON.stringify(claims));
    assert.equal(claims.preferred_username, ADMIN);
    // Userinfo's `sub` must equal the ID token's (OIDC Core §5.3.2); openid-client checks it.
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.preferred_username, ADMIN);
    assert.equal(info.sub, claims.sub);
  },

  async 'an ID token with a broken signature is rejected'() {
    await assert.rejects(codeFlow(tampering), (e) => /signature/i.test(`${e.message} ${e.cause?.message ?? ''}`));
  },

  async 'refresh, introspection and revocation'() {
    const tokens = await codeFlow();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    const active = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(active.active, true, JSON.stringify(active));
    await client.tokenRevocation(config, refreshed.access_token);
    const revoked = await client.tokenIntrospection(config, refreshed.access_token);
    assert.equal(revoked.active, false, JSON.stringify(revoked));
    await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, client.skipSubjectCheck));
  },

  async 'hybrid flow (code id_token): ID token and c_hash from the fragment'() {
    // openid-client checks the front-channel ID token: signature, nonce, c_hash.
    const hybrid = await client.discovery(new URL(server.url), APP.clientId, APP.clientSecret, undefined, {
      execute: [client.allowInsecureRequests, client.useCodeIdTokenResponseType],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(hybrid, {
      redirect_uri: CALLBACK,
      scope: 'openid api',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    assert.equal(url.searchParams.get('response_type'), 'code id_token');
    const location = new URL(await logInAndDecide(url.href));
    assert.ok(location.hash.includes('id_token='), location.href);
    const tokens = await client.authorizationCodeGrant(hybrid, location, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    // Only `openid api` were asked for: the identity claims, no `profile` ones.
    const claims = tokens.claims();
    assert.ok(claims.sub.startsWith(`${server.url}/id/00D`), claims.sub);
    assert.equal(claims.preferred_username, undefined);
  },

  async 'client_secret_basic authentication'() {
    const basic = await client.discovery(
      new URL(server.url),
      APP.clientId,
      undefined,
      client.ClientSecretBasic(APP.clientSecret),
      { execute: [client.allowInsecureRequests] },
    );
    const tokens = await codeFlow(basic);
    const info = await client.fetchUserInfo(basic, tokens.access_token, tokens.claims().sub);
    assert.equal(info.preferred_username, ADMIN);
  },

  async 'RP-initiated logout through the end_session_endpoint (buildEndSessionUrl)'() {
    const walker = new FormWalker();
    const tokens = await codeFlow(config, walker);
    const state = client.randomState();
    const logout = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: CALLBACK,
      state,
    });
    const back = await walker.follow(logout.href, new URL(server.url).origin);
    assert.equal(back.url, `${CALLBACK}?state=${state}`);
    // The web session is over: authorize asks for the login page again.
    const again = await walker.follow(
      client.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid api', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' }).href,
      new URL(server.url).origin,
    );
    assert.ok(new URL(again.url).pathname.endsWith('/login'), again.url);
  },

  async 'a wrong code verifier is refused'() {
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid api',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state,
      nonce: client.randomNonce(),
    });
    const location = await logInAndDecide(url.href);
    await assert.rejects(
      client.authorizationCodeGrant(config, new URL(location), {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: state,
      }),
      (e) => e.error === 'invalid_grant' && e.error_description === 'invalid code verifier',
    );
  },
});
