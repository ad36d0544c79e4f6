/**
 * Ambient declarations for the parts of the `tablestore` package the fake and its fidelity suite load by
 * deep path. Deliberately not `declare module 'tablestore'`: the store adapter types the SDK's public
 * surface itself, and two ambient declarations of one module name would collide.
 */
declare module 'tablestore/lib/protocol/tablestore_compiled_proto.js' {
  /** The protobufjs static-code root: `main.proto.*` (OTS API) and `filter.proto.*` (column filters). */
  const root: { main: { proto: Record<string, unknown> }; filter: { proto: Record<string, unknown> } };
  export = root;
}

declare module 'tablestore/index.js' {
  /** The SDK namespace (`Client`, `Long`, `Condition`, …), untyped on purpose: tests call it as users do. */
  const TableStore: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  export = TableStore;
}
