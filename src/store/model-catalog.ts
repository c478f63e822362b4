// The shipped catalog of model cards for common timm / torchvision / Hugging Face backbones
// (data/model-catalog/catalog.json, documented in its README). Lookups accept the names people
// write in their run logs: ids, aliases, any case, `timm/` or hub prefixes, unknown timm
// pretrained tags, bare architecture names and torchvision weight enums.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MetallmixError } from '../core/errors.ts';
import { packagePath } from '../core/package-files.ts';
import { ModelCard } from '../core/model-card.ts';

export const CATALOG_PATH = packagePath('data', 'model-catalog', 'catalog.json');

export const CATALOG_LIBRARIES = ['timm', 'torchvision', 'huggingface'] as const;
export type CatalogLibrary = (typeof CATALOG_LIBRARIES)[number];

/** A catalog entry: a ModelCard whose source is required, plus the other names of the same weights. */
export const CatalogEntry = ModelCard.extend({
  source: z.string().min(1),
  extra: ModelCard.shape.extra
    .unwrap()
    .refine((extra) => CATALOG_LIBRARIES.includes(extra.library as CatalogLibrary), {
      message: `extra.library must be one of ${CATALOG_LIBRARIES.join(', ')}`,
    }),
  aliases: z.array(z.string().min(1)).default([]),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

const CatalogFile = z.object({
  schemaVersion: z.literal(1),
  description: z.string().optional(),
  cards: z.array(CatalogEntry).min(1),
});

export type MatchKind = 'id' | 'alias' | 'architecture' | 'torchvision-weights';

export interface CatalogMatch {
  /** The card as the knowledge base stores it (aliases dropped). */
  card: ModelCard;
  aliases: readonly string[];
  library: CatalogLibrary;
  matchedBy: MatchKind;
  /** True when several cards fit the name and the first by the documented order was taken. */
  ambiguous: boolean;
  /** Ids of every card that fit, the chosen one first (just the chosen one when not ambiguous). */
  candidates: readonly string[];
  note?: string;
}

export interface LookupOptions {
  /** Only consider cards of this library. */
  library?: CatalogLibrary;
}

export interface SearchOptions {
  family?: string;
  architecture?: ModelCard['architecture'];
  library?: CatalogLibrary;
  /** Cards without a parameter count are left out when a bound is given. */
  minParams?: number;
  maxParams?: number;
  minResolution?: number;
  maxResolution?: number;
  /** Case-insensitive substring of pretrainingData. */
  pretrainingData?: string;
  /** Minimum extra.imagenetTop1 (percent); cards without it are left out. */
  minTop1?: number;
  limit?: number;
}

export interface ModelCatalog {
  readonly file: string;
  readonly cards: readonly CatalogEntry[];
  lookup(name: string, options?: LookupOptions): CatalogMatch | undefined;
  search(query: string, options?: SearchOptions): CatalogEntry[];
}

/** Validates catalog text; errors name the file, the line of the offending card and the field. */
export function parseModelCatalog(text: string, file: string): ModelCatalog {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new MetallmixError(`not valid JSON: ${(cause as Error).message}`, {
      location: { file },
      cause,
    });
  }
  const idLines = cardIdLines(text);
  const parsed = CatalogFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [top, index] = issue.path;
    const line = top === 'cards' && typeof index === 'number' ? idLines[index] : undefined;
    throw new MetallmixError(issue.message, {
      location: { file, line, field: issue.path.join('.') || undefined },
    });
  }
  const cards = parsed.data.cards;
  const owner = new Map<string, number>();
  const claim = (name: string, index: number, field: string) => {
    const key = name.toLowerCase();
    const other = owner.get(key);
    if (other !== undefined) {
      throw new MetallmixError(
        `"${name}" is already the id or an alias of card "${cards[other]!.id}" (line ${idLines[other]})`,
        { location: { file, line: idLines[index], field: `cards.${index}.${field}` } },
      );
    }
    owner.set(key, index);
  };
  cards.forEach((card, i) => claim(card.id, i, 'id'));
  cards.forEach((card, i) => card.aliases.forEach((a, j) => claim(a, i, `aliases.${j}`)));
  return new Catalog(file, cards, owner);
}

export function loadModelCatalog(file: string = CATALOG_PATH): ModelCatalog {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new MetallmixError(`cannot read the model catalog: ${(cause as Error).message}`, {
      location: { file },
      cause,
    });
  }
  return parseModelCatalog(text, file);
}

let shipped: ModelCatalog | undefined;
function shippedCatalog(): ModelCatalog {
  shipped ??= loadModelCatalog();
  return shipped;
}

export function catalogCards(): readonly CatalogEntry[] {
  return shippedCatalog().cards;
}

export function lookupModelCard(name: string, options?: LookupOptions): CatalogMatch | undefined {
  return shippedCatalog().lookup(name, options);
}

export function searchModelCards(query: string, options?: SearchOptions): CatalogEntry[] {
  return shippedCatalog().search(query, options);
}

/**
 * The card the shipped catalog gives a model a knowledge base names `model`: the catalog's facts
 * under the knowledge base's id, with the catalog entry and its source named in `source`.
 */
export function catalogCardFor(model: string): ModelCard | undefined {
  const match = lookupModelCard(model);
  if (!match) return undefined;
  const { id, source, ...facts } = match.card;
  return {
    ...facts,
    id: model,
    source: `metallmix model catalog, card ${id}${match.matchedBy === 'id' ? '' : ` (matched by ${match.matchedBy})`}: ${source}`,
  };
}

/** Strips what the knowledge base does not store. */
export function toModelCard(entry: CatalogEntry): ModelCard {
  const { aliases: _aliases, ...card } = entry;
  return card;
}

function libraryOf(entry: CatalogEntry): CatalogLibrary {
  return entry.extra.library as CatalogLibrary;
}

// Prefixes that name where a model came from rather than which model it is.
const HUB_PREFIXES = ['https://huggingface.co/', 'http://huggingface.co/', 'hf-hub:', 'hf_hub:'];
const TORCHVISION_PREFIXES = ['torchvision.models.', 'models.'];
const TORCHVISION_ENUM = /^[a-z0-9_]+_weights$/;

class Catalog implements ModelCatalog {
  private readonly byName: Map<string, number>;
  private readonly byTimmArch = new Map<string, number[]>();
  private readonly byTorchvisionModel = new Map<string, number[]>();
  private readonly byTorchvisionEnum = new Map<string, number[]>();

  constructor(
    readonly file: string,
    readonly cards: readonly CatalogEntry[],
    byName: Map<string, number>,
  ) {
    this.byName = byName;
    cards.forEach((card, i) => {
      const arch = card.extra.timmArchitecture;
      if (typeof arch === 'string') push(this.byTimmArch, arch.toLowerCase(), i);
      const model = card.extra.torchvisionModel;
      if (typeof model === 'string') push(this.byTorchvisionModel, model.toLowerCase(), i);
      const dot = card.id.indexOf('_Weights.');
      if (libraryOf(card) === 'torchvision' && dot > 0) {
        push(this.byTorchvisionEnum, card.id.slice(0, dot + '_Weights'.length).toLowerCase(), i);
      }
    });
  }

  lookup(name: string, options: LookupOptions = {}): CatalogMatch | undefined {
    const allowed = (i: number) =>
      options.library === undefined || libraryOf(this.cards[i]!) === options.library;
    let key = name.trim().toLowerCase();
    for (const prefix of HUB_PREFIXES) if (key.startsWith(prefix)) key = key.slice(prefix.length);
    if (key === '') return undefined;

    const exact = (k: string) => {
      const i = this.byName.get(k);
      return i !== undefined && allowed(i) ? i : undefined;
    };
    const stripped = [key];
    if (key.startsWith('timm/')) stripped.push(key.slice('timm/'.length));
    for (const prefix of TORCHVISION_PREFIXES) {
      if (key.startsWith(prefix)) stripped.push(key.slice(prefix.length));
    }
    for (const k of stripped) {
      const i = exact(k);
      if (i !== undefined) {
        return this.match([i], this.cards[i]!.id.toLowerCase() === k ? 'id' : 'alias');
      }
    }

    const bare = stripped[stripped.length - 1]!;
    if (TORCHVISION_ENUM.test(bare)) {
      const inEnum = (this.byTorchvisionEnum.get(bare) ?? []).filter(allowed);
      if (inEnum.length > 0)
        return this.match(this.orderTorchvision(inEnum), 'torchvision-weights');
    }

    const dot = bare.indexOf('.');
    const arch = dot >= 0 ? bare.slice(0, dot) : bare;
    const tag = dot >= 0 ? bare.slice(dot + 1) : undefined;
    const tvModel = (this.byTorchvisionModel.get(arch) ?? []).filter(allowed);
    if (tag !== undefined) {
      const named = tvModel.filter(
        (i) => String(this.cards[i]!.extra.torchvisionWeights).toLowerCase() === tag,
      );
      if (named.length === 1) return this.match(named, 'torchvision-weights');
    }
    const timm = [...(this.byTimmArch.get(arch) ?? [])].filter(allowed);
    timm.sort((a, b) => compareIds(this.cards[a]!.id, this.cards[b]!.id));
    const candidates = [...timm, ...this.orderTorchvision(tvModel)];
    if (candidates.length === 0) return undefined;
    const note =
      tag === undefined
        ? undefined
        : `pretrained tag "${tag}" is not in the catalog; matched architecture "${arch}"`;
    return this.match(candidates, 'architecture', note);
  }

  search(query: string, options: SearchOptions = {}): CatalogEntry[] {
    const tokens = query.toLowerCase().split(/\s+/).filter(Boolean);
    const q = query.trim().toLowerCase();
    const family = options.family?.toLowerCase();
    const pretraining = options.pretrainingData?.toLowerCase();
    const hits: { card: CatalogEntry; rank: number }[] = [];
    for (const card of this.cards) {
      if (family !== undefined && card.family.toLowerCase() !== family) continue;
      if (options.architecture !== undefined && card.architecture !== options.architecture) {
        continue;
      }
      if (options.library !== undefined && libraryOf(card) !== options.library) continue;
      if (!within(card.params, options.minParams, options.maxParams)) continue;
      if (!within(card.inputResolution, options.minResolution, options.maxResolution)) continue;
      if (pretraining !== undefined && !card.pretrainingData?.toLowerCase().includes(pretraining)) {
        continue;
      }
      if (options.minTop1 !== undefined) {
        const top1 = card.extra.imagenetTop1;
        if (typeof top1 !== 'number' || top1 < options.minTop1) continue;
      }
      const names = [card.id, ...card.aliases].map((n) => n.toLowerCase());
      const haystack = [...names, card.family.toLowerCase(), card.pretrainingData?.toLowerCase()];
      if (!tokens.every((t) => haystack.some((h) => h?.includes(t)))) continue;
      const rank = names.includes(q) ? 0 : names.some((n) => n.startsWith(q)) ? 1 : 2;
      hits.push({ card, rank });
    }
    hits.sort((a, b) => a.rank - b.rank || compareIds(a.card.id, b.card.id));
    const found = hits.map((h) => h.card);
    return options.limit === undefined ? found : found.slice(0, options.limit);
  }

  // torchvision's DEFAULT weights first, then by id.
  private orderTorchvision(indices: number[]): number[] {
    const isDefault = (i: number) => this.cards[i]!.extra.torchvisionDefault === true;
    return [...indices].sort(
      (a, b) =>
        Number(isDefault(b)) - Number(isDefault(a)) ||
        compareIds(this.cards[a]!.id, this.cards[b]!.id),
    );
  }

  private match(indices: number[], matchedBy: MatchKind, note?: string): CatalogMatch {
    const chosen = this.cards[indices[0]!]!;
    const ambiguous = indices.length > 1;
    const notes = [note];
    if (ambiguous) {
      notes.push(
        `${indices.length} cards fit; took "${chosen.id}" (timm before torchvision, torchvision DEFAULT weights first, otherwise the smallest id)`,
      );
    }
    const text = notes.filter(Boolean).join('; ');
    return {
      card: toModelCard(chosen),
      aliases: chosen.aliases,
      library: libraryOf(chosen),
      matchedBy,
      ambiguous,
      candidates: indices.map((i) => this.cards[i]!.id),
      ...(text ? { note: text } : {}),
    };
  }
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

// Code-unit order, so the pick does not depend on the process locale.
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function within(value: number | undefined, min?: number, max?: number): boolean {
  if (min === undefined && max === undefined) return true;
  if (value === undefined) return false;
  return (min === undefined || value >= min) && (max === undefined || value <= max);
}

// Line of each card's "id" key, so errors point into the file.
function cardIdLines(text: string): number[] {
  const lines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*"id"\s*:/.test(line)) lines.push(i + 1);
  });
  return lines;
}
