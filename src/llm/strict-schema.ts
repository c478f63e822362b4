/**
 * Whether OpenAI's strict structured-output mode accepts `schema`: every object closed
 * (additionalProperties false) and every property required. Records (open objects) are not.
 */
export function isStrictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(isStrictCompatible);
  if (!schema || typeof schema !== 'object') return true;
  const node = schema as Record<string, unknown>;
  const isObject =
    node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'));
  if (isObject) {
    const keys = Object.keys((node.properties as object | undefined) ?? {});
    const required = new Set((node.required as string[] | undefined) ?? []);
    if (node.additionalProperties !== false || !keys.every((k) => required.has(k))) return false;
  }
  return Object.entries(node).every(
    ([key, value]) => key === 'enum' || key === 'const' || isStrictCompatible(value),
  );
}
