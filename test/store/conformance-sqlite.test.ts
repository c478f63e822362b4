// The knowledge-base conformance suite on the SQLite backend, opened by locator (a file path).
import path from 'node:path';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { knowledgeBaseConformance } from './conformance.ts';

knowledgeBaseConformance('sqlite', async (dir) => {
  const file = path.join(dir, 'kb.sqlite');
  return {
    kb: await openKnowledgeBase(file, { mode: 'write' }),
    reopen: (mode) => openKnowledgeBase(file, { mode }),
    writerInAnotherProcess: { locator: file },
  };
});
