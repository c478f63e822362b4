// The example profile the recommend tests run on, and `metallmix recommend --json` on it.
import assert from 'node:assert/strict';
import { Recommendation } from '../../src/core/index.ts';
import { runCli } from '../support/cli.ts';

export const EXAMPLE = new URL('../../examples/chest-xray-small.json', import.meta.url).pathname;

/** `metallmix recommend --profile EXAMPLE --json ...args`, which must succeed; its answer, checked. */
export async function recommendJson(...args: string[]): Promise<Recommendation> {
  const r = await runCli('recommend', '--profile', EXAMPLE, '--json', ...args);
  assert.equal(r.code, 0, r.err);
  return Recommendation.parse(JSON.parse(r.out));
}
