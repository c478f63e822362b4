// Retrieval as a strategy dependency: the nearest past datasets, their runs and the
// meta-learner's insights for a profile, retrieved once per (profile, metric) and shared by
// every strategy of the request that needs them.
import { canonicalJson } from '../store/fingerprint.ts';
import type { Candidate, DatasetProfile, EvidenceRef } from '../core/index.ts';
import { insightSentences } from '../explain/index.ts';
import {
  openRetriever,
  toEvidenceRef,
  type Embedder,
  type EvidenceHit,
} from '../retrieve/index.ts';
import type { IndexLocation } from '../store/index.ts';
import { metricScale, type KbView } from './kb-view.ts';
import type { MetaLearnerSource } from './metalearner-source.ts';

export interface Evidence {
  /** Datasets, runs and insights, most similar first within each kind. */
  hits: EvidenceHit[];
  /** The meta-learner's global insights as citable sentences. */
  insights: { id: string; text: string }[];
  notices: string[];
  ms: number;
  indexRebuilt: boolean;
}

export interface EvidenceSource {
  retrieve(profile: DatasetProfile, metric: string): Promise<Evidence>;
}

export interface EvidenceOptions {
  indexLocation: IndexLocation;
  /** The dependency-free default when absent. */
  embedder?: Embedder;
  /** Hits per kind. */
  k?: number;
}

/** The datasets nearest the request, then the best runs of the candidate's model among them. */
export function evidenceForCandidate(
  hits: readonly EvidenceHit[],
  candidate: Candidate,
): EvidenceRef[] {
  const datasets = hits.filter((h) => h.kind === 'dataset').slice(0, 3);
  const sameModel = hits.filter((h) => h.kind === 'run' && h.model === candidate.model).slice(0, 2);
  return [...datasets, ...sameModel].map(toEvidenceRef);
}

/** Retrieval over the view's profiles, records and the meta-learner's insights (they are indexed too). */
export function retrievalEvidence(
  view: KbView,
  metaLearners: MetaLearnerSource,
  options: EvidenceOptions,
): EvidenceSource {
  const done = new Map<string, Evidence>();
  return {
    async retrieve(profile, metric) {
      const key = `${metric}\n${canonicalJson(profile)}`;
      const known = done.get(key);
      if (known) return known;
      const { learner } = metaLearners.learnerFor(metric);
      const insights = insightSentences(learner.insights, {
        metricName: metricScale(metric) === 100 ? `${metric} points` : metric,
        rowNoun: 'configurations',
      });
      const t0 = performance.now();
      const { retriever, notices, rebuilt } = await openRetriever({
        profiles: [...view.profiles.values()],
        // Read only if the index is rebuilt: a cached view's records then stay on disk.
        get records() {
          return view.records;
        },
        insights,
        metric,
        kbVersion: view.version,
        cachePath:
          options.indexLocation.kind === 'file'
            ? options.indexLocation.path
            : options.indexLocation.kind === 'database'
              ? options.indexLocation.localCopy
              : undefined,
        database:
          options.indexLocation.kind === 'database' ? options.indexLocation.store : undefined,
        embedder: options.embedder,
      });
      const hits = await retriever.retrieve(profile, {
        k: options.k ?? 5,
        kinds: ['dataset', 'run', 'insight'],
      });
      const evidence = {
        hits,
        insights,
        notices,
        ms: performance.now() - t0,
        indexRebuilt: rebuilt,
      };
      done.set(key, evidence);
      return evidence;
    },
  };
}
