// llm-proxy's own typecheck (tsconfig.json, which includes this file; the published build does not)
// allows only declared error codes: `ProxyErrorCode` for the proxy's, `PluginErrorCodes` for a
// test's third-party plugin. A new failure gets a code added to the union in src/errors.ts.
declare module '../../src/errors.js' {
  interface ErrorCodePolicy {
    only: 'declared';
  }
}

export {};
