// graphql-ws 6 publishes `graphql-ws/use/ws` through package.json "exports" only, which the
// workspace's `moduleResolution: node` does not read; this points the compiler at its typings.
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws';
}
