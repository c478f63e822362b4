// The knowledge-base conformance suite on the PostgreSQL backend, against a real PostgreSQL 15
// server started for this file (test/support/postgres-server.ts); each subject is a new schema
// of one database, opened by locator like any other knowledge base.
import { after, test } from 'node:test';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { startPostgres } from '../support/postgres-server.ts';
import { knowledgeBaseConformance } from './conformance.ts';

const server = await startPostgres();
if (typeof server === 'string')
  test('knowledge-base conformance: postgresql', { skip: server }, () => {});
else {
  after(() => server.stop());
  let n = 0;
  knowledgeBaseConformance('postgresql', async () => {
    const locator = server.url({ schema: `kb_${++n}` });
    return {
      kb: await openKnowledgeBase(locator, { mode: 'write', env: {} }),
      reopen: (mode) => openKnowledgeBase(locator, { mode, env: {} }),
      writerInAnotherProcess: { locator },
    };
  });
}
