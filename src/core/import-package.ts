// import() of a package that is installed only by the users who want it (node-llama-cpp, the
// neural embedder's runtime), by a name that is not a literal, so bundlers and the type checker
// leave it alone. The CLI bundle replaces this module with the loader's own import()
// (scripts/build.ts): a script compiled from V8's code cache loses its dynamic-import callback.
export function importPackage(name: string): Promise<unknown> {
  return import(name);
}
