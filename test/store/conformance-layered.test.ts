// The knowledge-base conformance suite on the layered backend: a writable SQLite layer over a
// second (empty) SQLite layer, which must behave exactly as one knowledge base does.
import path from 'node:path';
import { LayeredKnowledgeBase, openKnowledgeBase, type KbMode } from '../../src/store/index.ts';
import { knowledgeBaseConformance } from './conformance.ts';

knowledgeBaseConformance('layered', async (dir) => {
  const top = path.join(dir, 'user.sqlite');
  const below = path.join(dir, 'below.sqlite');
  (await openKnowledgeBase(below, { mode: 'write' })).close();
  const open = async (mode: KbMode) =>
    new LayeredKnowledgeBase(
      [await openKnowledgeBase(top, { mode }), await openKnowledgeBase(below, { mode: 'read' })],
      { kind: 'file', path: `${top}.layered.vectors` },
    );
  return { kb: await open('write'), reopen: open };
});
