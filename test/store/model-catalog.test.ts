import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetallmixError } from '../../src/core/errors.ts';
import { ModelCard } from '../../src/core/model-card.ts';
import {
  CATALOG_PATH,
  catalogCards,
  loadModelCatalog,
  lookupModelCard,
  parseModelCatalog,
  searchModelCards,
  type CatalogEntry,
} from '../../src/store/model-catalog.ts';
import { tempDir } from './helpers.ts';

const DATA = fileURLToPath(new URL('../../data/', import.meta.url));

function card(id: string): CatalogEntry {
  const found = catalogCards().find((c) => c.id === id);
  assert.ok(found, `${id} is in the catalog`);
  return found;
}

test('every shipped card is a valid ModelCard with a source, ids and aliases are unique', () => {
  const raw = JSON.parse(readFileSync(CATALOG_PATH, 'utf8')) as { cards: unknown[] };
  assert.equal(raw.cards.length, catalogCards().length);
  const names = new Set<string>();
  for (const entry of raw.cards) {
    const { aliases, ...rest } = entry as { aliases: string[] };
    const parsed = ModelCard.parse(rest);
    assert.ok(parsed.source && parsed.source.length > 20, `${parsed.id} names its source`);
    assert.ok(['timm', 'torchvision', 'huggingface'].includes(String(parsed.extra?.library)));
    for (const name of [parsed.id, ...aliases]) {
      assert.ok(!names.has(name.toLowerCase()), `${name} names one card only`);
      names.add(name.toLowerCase());
    }
  }
  const libraries = new Set(catalogCards().map((c) => c.extra.library));
  assert.deepEqual([...libraries].sort(), ['huggingface', 'timm', 'torchvision']);
});

test('every model of the shipped Quick-Tune and MedMNIST model files resolves, with the same params', () => {
  for (const set of ['quicktune', 'medmnist']) {
    const models = JSON.parse(readFileSync(path.join(DATA, set, 'models.json'), 'utf8')) as {
      id: string;
      params: number;
      family: string;
      architecture: string;
    }[];
    for (const m of models) {
      const match = lookupModelCard(m.id, { library: 'timm' });
      assert.ok(match, `${set} ${m.id} resolves`);
      assert.equal(match.card.params, m.params, `${m.id} params`);
      assert.equal(match.card.family, m.family, `${m.id} family`);
      assert.equal(match.card.architecture, m.architecture, `${m.id} architecture`);
    }
  }
});

test('the backbones named in issue 12 are all in the catalog', () => {
  const names = [
    'resnet18',
    'resnet34',
    'resnet50',
    'resnet101',
    'resnet50.a1_in1k',
    'efficientnet_b0',
    'efficientnet_b4',
    'tf_efficientnet_b0_ns',
    'tf_efficientnet_b7_ns',
    'convnext_tiny',
    'convnext_small',
    'convnext_base',
    'convnext_base_in22ft1k',
    'vit_tiny_patch16_224',
    'vit_small_patch16_224',
    'vit_base_patch16_224',
    'vit_large_patch16_224',
    'vit_base_patch16_384',
    'deit_base_patch16_224',
    'deit3_base_patch16_224',
    'swin_tiny_patch4_window7_224',
    'swinv2_tiny_window8_256',
    'beit_base_patch16_224',
    'regnety_032',
    'densenet121',
    'densenet169',
    'mobilenetv2_100',
    'mobilenetv3_large_100',
    'tf_efficientnetv2_s',
    'maxvit_tiny_tf_224',
    'coatnet_0_rw_224',
    'xcit_tiny_12_p16_224',
    'volo_d1_224',
    'edgenext_small',
    'mobilevit_s',
    'dla34',
    'inception_v3',
    'eva02_base_patch14_448',
    'vit_base_patch16_clip_224.openai_ft_in1k',
    'ResNet18_Weights.IMAGENET1K_V1',
    'EfficientNet_B7_Weights.IMAGENET1K_V1',
    'EfficientNet_V2_L_Weights.IMAGENET1K_V1',
    'ViT_L_16_Weights.IMAGENET1K_V1',
    'Swin_B_Weights.IMAGENET1K_V1',
    'ConvNeXt_Large_Weights.IMAGENET1K_V1',
    'MobileNet_V3_Small_Weights.IMAGENET1K_V1',
    'RegNet_Y_16GF_Weights.IMAGENET1K_SWAG_E2E_V1',
    'Wide_ResNet50_2_Weights.IMAGENET1K_V2',
    'google/vit-base-patch16-224',
    'microsoft/resnet-50',
    'facebook/convnext-tiny-224',
    'microsoft/swin-tiny-patch4-window7-224',
    'facebook/deit-base-patch16-224',
    'google/efficientnet-b0',
    'facebook/dinov2-base',
  ];
  const missing = names.filter((n) => lookupModelCard(n) === undefined);
  assert.deepEqual(missing, []);
});

test('lookup by id, alias, case, timm/ and hub prefixes', () => {
  const byId = lookupModelCard('resnet50.a1_in1k');
  assert.equal(byId?.card.id, 'resnet50.a1_in1k');
  assert.equal(byId?.matchedBy, 'id');
  assert.equal(byId?.ambiguous, false);
  assert.equal('aliases' in (byId?.card ?? {}), false);

  for (const name of [
    'ResNet50.A1_IN1K',
    '  timm/resnet50.a1_in1k ',
    'hf-hub:timm/resnet50.a1_in1k',
    'https://huggingface.co/timm/resnet50.a1_in1k',
  ]) {
    assert.equal(lookupModelCard(name)?.card.id, 'resnet50.a1_in1k', name);
  }
  const old = lookupModelCard('convnext_small_384_in22ft1k');
  assert.equal(old?.card.id, 'convnext_small.fb_in22k_ft_in1k_384');
  assert.equal(old?.matchedBy, 'alias');
  assert.equal(
    lookupModelCard('XCIT_NANO_12_P8_384_DIST')?.card.id,
    'xcit_nano_12_p8_384.fb_dist_in1k',
  );
  assert.equal(
    lookupModelCard('https://huggingface.co/google/vit-base-patch16-224')?.card.id,
    'google/vit-base-patch16-224',
  );
  assert.equal(lookupModelCard('no_such_model'), undefined);
  assert.equal(lookupModelCard('   '), undefined);
});

test('architecture names and unknown timm tags resolve deterministically and say so', () => {
  const single = lookupModelCard('volo_d1_384');
  assert.equal(single?.card.id, 'volo_d1_384.sail_in1k');
  assert.equal(single?.matchedBy, 'architecture');
  assert.equal(single?.ambiguous, false);

  const bare = lookupModelCard('resnet50');
  assert.equal(bare?.matchedBy, 'architecture');
  assert.equal(bare?.ambiguous, true);
  assert.equal(bare?.card.id, 'resnet50.a1_in1k');
  assert.equal(bare?.candidates[0], 'resnet50.a1_in1k');
  // timm weights first (by id), then torchvision's, DEFAULT first.
  const tvAt = bare!.candidates.indexOf('ResNet50_Weights.IMAGENET1K_V2');
  assert.ok(tvAt > 0 && bare!.candidates[tvAt + 1] === 'ResNet50_Weights.IMAGENET1K_V1');
  assert.ok(bare!.candidates.slice(0, tvAt).every((id) => id.startsWith('resnet50.')));
  assert.match(bare!.note ?? '', /cards fit; took "resnet50\.a1_in1k"/);
  assert.deepEqual(lookupModelCard('resnet50'), bare);

  const tagged = lookupModelCard('resnet50.my_finetune');
  assert.equal(tagged?.card.id, 'resnet50.a1_in1k');
  assert.match(tagged?.note ?? '', /tag "my_finetune" is not in the catalog/);

  const tv = lookupModelCard('resnet50', { library: 'torchvision' });
  assert.equal(tv?.card.id, 'ResNet50_Weights.IMAGENET1K_V2');
  assert.equal(tv?.library, 'torchvision');
  assert.equal(lookupModelCard('microsoft/resnet-50', { library: 'timm' }), undefined);
});

test('torchvision weight names in their usual spellings', () => {
  const cases: [string, string][] = [
    ['ResNet50_Weights.IMAGENET1K_V1', 'ResNet50_Weights.IMAGENET1K_V1'],
    ['resnet50_weights.imagenet1k_v1', 'ResNet50_Weights.IMAGENET1K_V1'],
    ['torchvision.models.ResNet50_Weights.IMAGENET1K_V1', 'ResNet50_Weights.IMAGENET1K_V1'],
    ['models.ResNet50_Weights.IMAGENET1K_V1', 'ResNet50_Weights.IMAGENET1K_V1'],
    ['ResNet50_Weights.DEFAULT', 'ResNet50_Weights.IMAGENET1K_V2'],
    ['torchvision/resnet50', 'ResNet50_Weights.IMAGENET1K_V2'],
    ['resnet50.IMAGENET1K_V1', 'ResNet50_Weights.IMAGENET1K_V1'],
    ['ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1', 'ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1'],
  ];
  for (const [name, id] of cases) assert.equal(lookupModelCard(name)?.card.id, id, name);
  const enumOnly = lookupModelCard('ResNet50_Weights');
  assert.equal(enumOnly?.card.id, 'ResNet50_Weights.IMAGENET1K_V2');
  assert.equal(enumOnly?.matchedBy, 'torchvision-weights');
  assert.equal(enumOnly?.ambiguous, true);
});

test('search filters by family, architecture, library, size, resolution and top-1', () => {
  const small = searchModelCards('convnext tiny', { maxParams: 30e6 });
  assert.ok(small.length >= 5);
  for (const c of small) {
    assert.ok(c.params! <= 30e6);
    assert.match(c.id.toLowerCase(), /convnext/);
  }
  const resnets = searchModelCards('', { family: 'resnet', library: 'torchvision' });
  assert.deepEqual(
    resnets.map((c) => c.id),
    [
      'ResNet101_Weights.IMAGENET1K_V1',
      'ResNet101_Weights.IMAGENET1K_V2',
      'ResNet152_Weights.IMAGENET1K_V1',
      'ResNet152_Weights.IMAGENET1K_V2',
      'ResNet18_Weights.IMAGENET1K_V1',
      'ResNet34_Weights.IMAGENET1K_V1',
      'ResNet50_Weights.IMAGENET1K_V1',
      'ResNet50_Weights.IMAGENET1K_V2',
    ],
  );
  const hybrids = searchModelCards('', { architecture: 'hybrid', minTop1: 85, maxResolution: 256 });
  assert.ok(hybrids.length > 0);
  for (const c of hybrids) {
    assert.equal(c.architecture, 'hybrid');
    assert.ok((c.extra.imagenetTop1 as number) >= 85 && c.inputResolution! <= 256);
  }
  const laion = searchModelCards('vit', { pretrainingData: 'laion-2b', limit: 3 });
  assert.equal(laion.length, 3);
  assert.ok(laion.every((c) => /LAION-2B/.test(c.pretrainingData ?? '')));
  // An exact name ranks first, whatever its place in id order.
  assert.equal(searchModelCards('tf_efficientnet_b4_ns')[0]?.id, 'tf_efficientnet_b4.ns_jft_in1k');
  assert.equal(searchModelCards('resnet50.a1_in1k')[0]?.id, 'resnet50.a1_in1k');
});

test('spot checks against a second, independent source', () => {
  // timm figures: results-imagenet.csv (timm's own evaluation, params in millions to 2 decimals).
  // torchvision figures: the weight enums' meta in torchvision 0.14.1 (num_params exact,
  // acc@1 from torchvision's evaluation). Same weights: timm's *.tv_in1k / *.tv2_in1k tags are
  // torchvision's IMAGENET1K_V1 / IMAGENET1K_V2 weights.
  const pairs: [string, string][] = [];
  for (const c of catalogCards()) {
    const tag = c.extra.timmTag;
    if (tag !== 'tv_in1k' && tag !== 'tv2_in1k') continue;
    const weights = tag === 'tv_in1k' ? 'IMAGENET1K_V1' : 'IMAGENET1K_V2';
    const tv = catalogCards().find(
      (t) =>
        t.extra.torchvisionModel === c.extra.timmArchitecture &&
        t.extra.torchvisionWeights === weights,
    );
    if (tv) pairs.push([c.id, tv.id]);
  }
  assert.ok(pairs.length >= 25, `${pairs.length} timm/torchvision pairs`);
  for (const [timmId, tvId] of pairs) {
    const timm = card(timmId);
    const tv = card(tvId);
    assert.equal(timm.inputResolution, tv.inputResolution, `${timmId} resolution`);
    if (timmId === 'inception_v3.tv_in1k') {
      // torchvision counts the auxiliary classifier (27,161,264); timm's model has none (23.83M).
      assert.equal(tv.params, 27161264);
      assert.equal(timm.params, 23830000);
      continue;
    }
    assert.equal(Math.round(tv.params! / 1e4) * 1e4, timm.params, `${timmId} vs ${tvId} params`);
  }
  // resnet50: timm 76.130 / torchvision 76.13 (V1), timm 80.850 / torchvision 80.858 (V2).
  assert.equal(card('resnet50.tv_in1k').extra.imagenetTop1, 76.13);
  assert.equal(card('ResNet50_Weights.IMAGENET1K_V1').extra.imagenetTop1, 76.13);
  assert.ok(
    Math.abs(
      (card('resnet50.tv2_in1k').extra.imagenetTop1 as number) -
        (card('ResNet50_Weights.IMAGENET1K_V2').extra.imagenetTop1 as number),
    ) < 0.01,
  );
  assert.equal(card('ResNet50_Weights.IMAGENET1K_V2').params, 25557032);
  // timm's Hugging Face model card for deit_base_patch16_384.fb_in1k states Params (M) 86.9 and
  // image size 384 x 384 (https://huggingface.co/timm/deit_base_patch16_384.fb_in1k).
  const deit = card('deit_base_patch16_384.fb_in1k');
  assert.equal(Math.round(deit.params! / 1e5) / 10, 86.9);
  assert.equal(deit.inputResolution, 384);
  // OpenVINO Open Model Zoo's swin-tiny-patch4-window7-224 page states top-1 81.38%
  // (docs.openvino.ai omz_models_model_swin_tiny_patch4_window7_224).
  const swin = card('swin_tiny_patch4_window7_224.ms_in1k');
  assert.equal(Math.round((swin.extra.imagenetTop1 as number) * 100) / 100, 81.38);
  // The HF ViT card says its weights came from timm: same resolution and pretraining data as the
  // timm original-in21k weights.
  const hf = card('google/vit-base-patch16-224');
  const orig = card('vit_base_patch16_224.orig_in21k_ft_in1k');
  assert.equal(hf.inputResolution, orig.inputResolution);
  assert.equal(hf.pretrainingData, orig.pretrainingData);
});

test('a broken catalog fails with file, line and field', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'catalog.json');
  const base = {
    schemaVersion: 1,
    cards: [
      {
        id: 'a.x',
        family: 'a',
        architecture: 'cnn',
        source: 'somewhere, file f, commit c',
        extra: { library: 'timm' },
        aliases: ['a_old'],
      },
      {
        id: 'b.x',
        family: 'b',
        architecture: 'cnn',
        source: 'somewhere, file f, commit c',
        extra: { library: 'timm' },
        aliases: ['A_OLD'],
      },
    ],
  };
  writeFileSync(file, JSON.stringify(base, null, 2));
  assert.throws(
    () => loadModelCatalog(file),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.location.file === file &&
      e.location.line === 17 &&
      e.location.field === 'cards.1.aliases.0' &&
      /"A_OLD" is already the id or an alias of card "a\.x" \(line 5\)/.test(e.message),
  );

  const badParams = structuredClone(base);
  badParams.cards[1]!.aliases = [];
  (badParams.cards[1] as Record<string, unknown>).params = -3;
  const text = JSON.stringify(badParams, null, 2);
  assert.throws(
    () => parseModelCatalog(text, file),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.location.line === 17 &&
      e.location.field === 'cards.1.params',
  );

  const noSource = structuredClone(base);
  noSource.cards[1]!.aliases = [];
  delete (noSource.cards[0] as Record<string, unknown>).source;
  assert.throws(
    () => parseModelCatalog(JSON.stringify(noSource, null, 2), file),
    (e: unknown) => e instanceof MetallmixError && e.location.field === 'cards.0.source',
  );
  const wrongLibrary = structuredClone(noSource);
  wrongLibrary.cards[0]!.source = 'x';
  wrongLibrary.cards[0]!.extra.library = 'keras';
  assert.throws(
    () => parseModelCatalog(JSON.stringify(wrongLibrary), file),
    /extra\.library must be one of timm, torchvision, huggingface/,
  );
  assert.throws(
    () => parseModelCatalog('{', file),
    (e: unknown) => e instanceof MetallmixError,
  );
  assert.throws(
    () => loadModelCatalog(path.join(dir, 'missing.json')),
    /cannot read the model catalog/,
  );

  const ok = structuredClone(noSource);
  ok.cards[0]!.source = 'x';
  const catalog = parseModelCatalog(JSON.stringify(ok), file);
  assert.equal(catalog.lookup('B.X')?.card.id, 'b.x');
  assert.equal(catalog.cards[0]!.architecture, 'cnn');
});
