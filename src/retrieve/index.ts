// Retrieval: evidence documents from the knowledge base, embedders behind one interface, and a
// persisted vector index. Typical use:
//   const { retriever } = await openRetriever({ profiles, records: kb.records(), insights,
//     metric: 'accuracy', kbVersion, cachePath: indexPathFor(kbPath) });
//   const hits = await retriever.retrieve(profile, { k: 5, kinds: ['dataset', 'run', 'insight'] });
//   recommendation.evidence = hits.map(toEvidenceRef);
export * from './documents.ts';
export * from './profile-features.ts';
export * from './embedder.ts';
export * from './default-embedder.ts';
export * from './neural-embedder.ts';
export * from './http-embedder.ts';
export * from './vector-index.ts';
export * from './flat-index.ts';
export * from './build-index.ts';
export * from './index-cache.ts';
export * from './database-index.ts';
export * from './retriever.ts';
