// A real OpenID provider for the tests: the certified `oidc-provider` package, on a port the
// tests choose, with one client (Bleep) and the accounts the tests write to a JSON file.
//
//   node tests/oidc/provider.mjs <settings.json>
//
// settings.json: {"port", "issuer", "client": {client_id, client_secret, redirect_uris,
// post_logout_redirect_uris, backchannel_logout_uri?}, "accounts": "<accounts.json>",
// "jwks": {"keys": [private JWKs]}}. accounts.json maps each account's `sub` to its claims,
// with "disabled": true for an account that may no longer sign in; it is read afresh on
// every sign-in, so a test can disable an account while the provider runs.

import { readFileSync } from "node:fs";

import Provider from "oidc-provider";

const settings = JSON.parse(readFileSync(process.argv[2], "utf8"));

function accounts() {
  return JSON.parse(readFileSync(settings.accounts, "utf8"));
}

const provider = new Provider(settings.issuer, {
  clients: [
    {
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      ...settings.client,
    },
  ],
  jwks: settings.jwks,
  // The provider refuses to call special-use addresses (its guard against SSRF), and the
  // Bleep it sends back-channel logouts to in the tests listens on 127.0.0.1.
  fetch(url, options) {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  cookies: { keys: ["bleep-tests-only-cookie-key"] },
  pkce: { required: () => true },
  // A refresh token with every sign-in, as Keycloak and CIS2 give; it lasts as long as the
  // provider's session and stops working when the account is disabled.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed("refresh_token"),
  rotateRefreshToken: true,
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username", "staff_number", "groups"],
  },
  features: {
    // The provider's own login page: any password; the account is the login typed.
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: Boolean(settings.client.backchannel_logout_uri) },
  },
  async findAccount(ctx, sub) {
    const claims = accounts()[sub];
    if (!claims || claims.disabled) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claims }) };
  },
});
// What went wrong, in the log the tests print when the provider misbehaves.
provider.on("server_error", (ctx, error) => console.error("server_error", error));
provider.on("backchannel.error", (ctx, error, client) => console.error("backchannel.error", client.clientId, error));
provider.on("backchannel.success", (ctx, client) => console.log("backchannel.success", client.clientId));
// Plain HTTP on localhost: the tests' provider is not behind TLS.
provider.proxy = false;

provider.listen(settings.port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${settings.issuer}`);
});
