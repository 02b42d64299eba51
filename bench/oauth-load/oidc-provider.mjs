// node-oidc-provider as the benchmark's peer (issue 5): one confidential client with the client
// credentials grant, opaque access tokens (the library's default format), in-memory storage.
// Usage: node oidc-provider.mjs PORT
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 18092);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'bench',
      client_secret: 'bench-secret-0123456789abcdef0123456789abcdef',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  scopes: ['api'],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
});
// Quiet: no per-request logging, as with `eca serve` at its default level.
provider.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${port}`);
});
