import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  CATALOG_LIBRARIES,
  listModels,
  ModelCard,
  type CatalogLibrary,
  type ModelsResult,
} from '../../index.ts';
import type { CliIo } from '../io.ts';
import { fitTable, terminalWidth, wrap } from '../layout.ts';
import { emit, jsonOption, withExamples } from '../output.ts';
import { positiveInt } from '../parse-flags.ts';
import { pushAll } from '../../core/arrays.ts';

interface ModelsFlags {
  family?: string;
  architecture?: ModelCard['architecture'];
  maxParams?: number;
  library?: CatalogLibrary;
  limit: number;
  json?: boolean;
}

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, b: 1e9 };

/** A parameter count as people write it: 25000000, 2.5e7, 25M, 800k, 1.1B. */
function paramCount(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmb]?)\s*$/i.exec(value);
  if (!m) throw new InvalidArgumentError(`"${value}" is not a parameter count (e.g. 25M, 800k).`);
  return Number(m[1]) * SUFFIX[m[2].toLowerCase()];
}

export function registerModels(program: Command, io: CliIo): void {
  const cmd = program
    .command('models')
    .description(
      'List and search the shipped catalog of model cards (timm, torchvision, Hugging Face backbones with sources), used wherever a knowledge base lacks a card',
    )
    .argument(
      '[query...]',
      'words that must all occur in the id, an alias, the family or the pretraining data',
    )
    .option('--family <name>', 'only this family (resnet, vit, convnext, swinv2, ...)')
    .addOption(
      new Option('--architecture <kind>', 'only this architecture').choices(
        ModelCard.shape.architecture.unwrap().options,
      ),
    )
    .option('--max-params <n>', 'at most this many parameters (25M, 800k, 2.5e7)', paramCount)
    .addOption(
      new Option('--library <name>', 'only cards of this library').choices(CATALOG_LIBRARIES),
    )
    .option('--limit <n>', 'rows to print (--json prints all)', positiveInt, 40)
    .addOption(jsonOption())
    .action((query: string[], flags: ModelsFlags) => {
      const result = listModels({
        query: query.join(' '),
        family: flags.family,
        architecture: flags.architecture,
        maxParams: flags.maxParams,
        library: flags.library,
      });
      emit(io, result, flags.json, (r) => render(r, flags.limit, terminalWidth(io)));
    });
  withExamples(cmd, [
    'metallmix models convnext --max-params 30M',
    'metallmix models --family vit --library timm --architecture transformer',
    'metallmix models tf_efficientnet_b4_ns --json   # the card a run log naming this model gets',
  ]);
}

const millions = (n: number | undefined) => (n === undefined ? '' : `${(n / 1e6).toFixed(1)}M`);

function render(r: ModelsResult, limit: number, width: number): string {
  const lines: string[] = [];
  if (r.lookup) {
    const l = r.lookup;
    pushAll(
      lines,
      wrap(
        `A knowledge base naming a model "${l.query}" gets the card ${l.card} (${l.library}, matched by ${l.matchedBy})${l.note ? `; ${l.note}` : ''}.`,
        width,
      ),
    );
    lines.push('');
  }
  if (r.cards.length === 0) {
    lines.push(`No card of the ${r.total} in the catalog matches.`);
    return lines.join('\n');
  }
  const shown = r.cards.slice(0, limit);
  lines.push(
    fitTable(
      [
        { header: 'id', shrink: 'middle', min: 20, priority: 4 },
        { header: 'library', optional: true, priority: 1 },
        { header: 'family', shrink: 'end', min: 6, priority: 2 },
        { header: 'arch', priority: 5 },
        { header: 'params', right: true, priority: 5 },
        { header: 'px', right: true, priority: 5 },
        { header: 'top-1', right: true, optional: true, priority: 5 },
        { header: 'pretraining data', shrink: 'end', min: 12, optional: true, priority: 0 },
      ],
      shown.map((c) => [
        c.id,
        String(c.extra.library),
        c.family,
        c.architecture,
        millions(c.params),
        c.inputResolution === undefined ? '' : String(c.inputResolution),
        typeof c.extra.imagenetTop1 === 'number' ? c.extra.imagenetTop1.toFixed(1) : '',
        c.pretrainingData ?? '',
      ]),
      width,
    ),
  );
  pushAll(
    lines,
    wrap(
      `${r.cards.length} of the catalog's ${r.total} cards${r.cards.length > shown.length ? `, first ${shown.length} shown (--limit N)` : ''}. px: input resolution; top-1: ImageNet-1k validation accuracy in percent, as the source reports it; sources and aliases: --json.`,
      width,
    ),
  );
  return lines.join('\n');
}
