export { treeShap, treeShapInteractions, type ShapValues } from './tree-shap.ts';
export {
  globalImportance,
  featureEffects,
  strongestInteractions,
  interactionEffects,
  displayValue,
  type FeatureDisplay,
  type ValueRange,
  type EffectCondition,
  type EffectOptions,
  type Insight,
} from './insights.ts';
export {
  insightSentences,
  formatValue,
  type SentenceOptions,
  type InsightSentence,
} from './sentences.ts';
export { shapTable, type ShapTable } from './shap-table.ts';
