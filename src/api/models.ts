// `models`: the shipped catalog of model cards (data/model-catalog) that fills in for cards a
// knowledge base lacks: list and search it, and say which card a name from a run log resolves to.
import { MetallmixError, type ModelCard } from '../core/index.ts';
import {
  CATALOG_LIBRARIES,
  catalogCards,
  lookupModelCard,
  searchModelCards,
  type CatalogEntry,
  type CatalogLibrary,
  type CatalogMatch,
} from '../store/index.ts';

export { CATALOG_LIBRARIES, type CatalogEntry, type CatalogLibrary } from '../store/index.ts';

export interface ModelsInput {
  /** Words that must all occur in an id, alias, family or pretraining data (any case). */
  query?: string;
  family?: string;
  architecture?: ModelCard['architecture'];
  /** Upper bound on the parameter count (cards without one are left out). */
  maxParams?: number;
  library?: CatalogLibrary;
}

export interface ModelsResult {
  /** Cards in the catalog. */
  total: number;
  cards: CatalogEntry[];
  /** The card a knowledge base naming a model `query` gets, when the query is one name. */
  lookup?: Omit<CatalogMatch, 'card' | 'aliases'> & { query: string; card: string };
}

export function listModels(input: ModelsInput = {}): ModelsResult {
  if (input.library !== undefined && !CATALOG_LIBRARIES.includes(input.library))
    throw new MetallmixError(
      `unknown library "${input.library}" (one of ${CATALOG_LIBRARIES.join(', ')})`,
      { location: { field: 'library' } },
    );
  const query = input.query?.trim() ?? '';
  const cards = searchModelCards(query, {
    family: input.family,
    architecture: input.architecture,
    maxParams: input.maxParams,
    library: input.library,
  });
  const match =
    query && !/\s/.test(query) ? lookupModelCard(query, { library: input.library }) : undefined;
  return {
    total: catalogCards().length,
    cards,
    ...(match
      ? {
          lookup: {
            query,
            card: match.card.id,
            library: match.library,
            matchedBy: match.matchedBy,
            ambiguous: match.ambiguous,
            candidates: match.candidates,
            ...(match.note ? { note: match.note } : {}),
          },
        }
      : {}),
  };
}
