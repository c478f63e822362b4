// The shipped model catalog in use: `metallmix models` lists and searches it; a knowledge base's
// models without a card get the catalog's card (never replacing one it has), and `import` says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openKnowledgeBase, catalogCards } from '../../src/store/index.ts';
import { viewOf } from '../../src/recommend/kb-view.ts';
import { runCli, runCliWith } from '../support/cli.ts';
import { smallSource, tempDir, write } from '../store/helpers.ts';

test('metallmix models: search with filters, the card a run-log name resolves to, width-aware table', async () => {
  const total = catalogCards().length;
  let r = await runCli('models', 'convnext', '--max-params', '30M', '--json');
  assert.equal(r.code, 0, r.err);
  let result = JSON.parse(r.out);
  assert.equal(result.total, total);
  assert.ok(result.cards.length > 5);
  for (const c of result.cards) {
    assert.ok(c.params <= 30e6, c.id);
    assert.ok(
      [c.id, ...c.aliases, c.family].some((n: string) => n.toLowerCase().includes('convnext')),
      c.id,
    );
    assert.ok(c.source.length > 0);
  }

  r = await runCli('models', '--library', 'torchvision', '--architecture', 'transformer', '--json');
  result = JSON.parse(r.out);
  assert.ok(result.cards.length > 0);
  for (const c of result.cards)
    assert.deepEqual([c.extra.library, c.architecture], ['torchvision', 'transformer']);

  r = await runCli('models', 'tf_efficientnet_b4_ns', '--json');
  result = JSON.parse(r.out);
  assert.deepEqual(
    [result.lookup.card, result.lookup.matchedBy, result.lookup.library],
    ['tf_efficientnet_b4.ns_jft_in1k', 'alias', 'timm'],
  );
  assert.deepEqual(
    result.cards.map((c: { id: string }) => c.id),
    ['tf_efficientnet_b4.ns_jft_in1k'],
  );

  r = await runCliWith(
    { env: { ...process.env, COLUMNS: '80' } },
    'models',
    'vit_base',
    '--limit',
    '5',
  );
  assert.equal(r.code, 0);
  const lines = r.out.trimEnd().split('\n');
  assert.ok(
    lines.every((l) => l.length <= 80),
    r.out,
  );
  assert.match(lines[0], /^id +family +arch +params +px +top-1$/);
  assert.match(r.out, /first 5 shown/);

  r = await runCli('models', '--family', 'no-such-family');
  assert.equal(r.out.trim(), `No card of the ${total} in the catalog matches.`);
});

test('import: models without a card get the catalog card (never over the knowledge base one), and are named', async (t) => {
  const dir = tempDir(t);
  const src = smallSource(
    dir,
    [
      'run,ds,model,lr,strategy,depth,acc,minutes,seed',
      'r1,derma,resnet18,0.001,lp,0,81.5,2,1',
      'r2,derma,convnext_tiny,0.01,partial,3,85,3.5,1',
      'r3,blood,my-own-net,0.0001,full,0,90,10,2',
      '',
    ].join('\n'),
  );
  // The knowledge base's own card for resnet18 differs from the catalog's on purpose.
  write(dir, 'models.json', [
    { id: 'resnet18', family: 'resnet', architecture: 'cnn', params: 12345678 },
  ]);
  const kbFile = path.join(dir, 'kb.sqlite');
  const json = await runCli('import', src.csv, '--mapping', src.mapping, '--kb', kbFile, '--json');
  assert.equal(json.code, 0, json.err);
  const report = JSON.parse(json.out);
  assert.deepEqual(report.modelsWithoutCard, ['my-own-net']);
  assert.equal(report.modelsFromCatalog.length, 1);
  const use = report.modelsFromCatalog[0];
  assert.deepEqual(
    [use.model, use.library, use.matchedBy],
    ['convnext_tiny', 'timm', 'architecture'],
  );
  assert.match(use.card, /^convnext_tiny\./);
  assert.match(use.source, /pytorch-image-models/);

  const text = await runCli('import', src.csv, '--mapping', src.mapping, '--kb', kbFile);
  assert.match(text.out, /^model cards from the shipped catalog/m);
  assert.match(
    text.out,
    new RegExp(
      `^  convnext_tiny -> ${use.card.replace('.', '\\.')} \\(timm, matched by architecture\\)`,
      'm',
    ),
  );
  assert.match(
    text.out,
    /^models without a card \(in the knowledge base or the catalog\): my-own-net$/m,
  );

  const kb = await openKnowledgeBase(kbFile, { mode: 'read', env: {} });
  try {
    const snapshot = await kb.snapshot();
    const view = viewOf(snapshot, kb.label);
    assert.equal(view.cards.get('resnet18')!.params, 12345678, "the knowledge base's card is kept");
    const card = view.cards.get('convnext_tiny')!;
    assert.deepEqual(
      [card.id, card.family, card.architecture],
      ['convnext_tiny', 'convnext', 'cnn'],
    );
    assert.ok(card.params! > 28e6 && card.params! < 29e6);
    assert.match(
      card.source!,
      new RegExp(
        `^metallmix model catalog, card ${use.card.replace('.', '\\.')} \\(matched by architecture\\): `,
      ),
    );
    assert.equal(view.cards.has('my-own-net'), false);
    assert.deepEqual(view.catalogCards, ['convnext_tiny']);
    assert.match(view.version, new RegExp(`^${snapshot.version}\\+catalog\\.[0-9a-f]{8}$`));
  } finally {
    await kb.close();
  }
});
