// The WebAssembly globals Node provides, declared here because they only ship in TypeScript's DOM
// lib (which would also pull in browser globals the server must not use).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
  }
  class Global {
    readonly value: unknown;
  }
}
